// Fails when a script an old phone runs would not parse there: every script the built index.html loads
// with `nomodule` (inline or by src), the legacy entry and every legacy chunk (`*-legacy-*.js`, loaded later by
// SystemJS) must parse as ECMAScript 2015 — the X5/TBS core in WeChat and un-updated Android 8–10 WebViews
// (Chromium 53–66) parse all of ES2015 but not everything after it (async generators, `?.`, `??`, class fields).
//
//   node scripts/check-legacy.mjs [dist-dir]     exit 0: all parse; 1: a file does not (printed with its line)
import { readdirSync, readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { parse } from 'acorn'

export const ECMA_VERSION = 2015

const dist = resolve(process.argv[2] ?? new URL('../dist', import.meta.url).pathname)
const html = readFileSync(join(dist, 'index.html'), 'utf8')

const sources = [] // [label, code]
const scriptRE = /<script\b([^>]*)>([\s\S]*?)<\/script>/g
let legacyEntry = null
for (const [, attrs, body] of html.matchAll(scriptRE)) {
  if (!/\bnomodule\b/.test(attrs)) continue
  if (body.trim()) sources.push(['index.html inline nomodule script', body])
  const src = /\bsrc="([^"]+)"/.exec(attrs)?.[1]
  const dataSrc = /\bdata-src="([^"]+)"/.exec(attrs)?.[1]
  for (const url of [src, dataSrc]) {
    if (!url) continue
    const file = url.replace(/^\/static\//, '')
    sources.push([file, readFileSync(join(dist, file), 'utf8')])
    if (url === dataSrc) legacyEntry = file
  }
}
if (!legacyEntry) {
  console.error('check-legacy: index.html has no nomodule legacy entry (is @vitejs/plugin-legacy on?)')
  process.exit(1)
}
const assets = join(dist, 'assets')
for (const name of readdirSync(assets)) {
  if (/-legacy-[\w-]+\.js$/.test(name) && !sources.some(([label]) => label === `assets/${name}`)) {
    sources.push([`assets/${name}`, readFileSync(join(assets, name), 'utf8')])
  }
}

let failed = 0
for (const [label, code] of sources) {
  try {
    parse(code, { ecmaVersion: ECMA_VERSION, sourceType: 'script' })
  } catch (err) {
    failed += 1
    const pos = err.pos ?? 0
    console.error(`NOT ES${ECMA_VERSION}: ${label}: ${err.message}\n  …${code.slice(Math.max(0, pos - 60), pos + 60)}…`)
  }
}
console.log(`check-legacy: ${sources.length - failed}/${sources.length} legacy scripts parse as ES${ECMA_VERSION}`)
process.exit(failed ? 1 : 0)
