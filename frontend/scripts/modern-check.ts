// plugin-legacy decides between the modern and the legacy build with `data:` module imports
// (`import 'data:text/javascript,if(!import.meta.resolve)throw …'`): one in an inline script of index.html, one
// at the head of each modern entry chunk (so that a browser with modules but without import.meta.resolve stops
// before any modern code runs and takes the legacy build). Our CSP allows scripts from this origin (and three
// inline ones by hash), so those imports are refused: the modern app never starts and every phone downloads the
// legacy build too. This moves each check, unchanged, into a content-hashed file under assets/:
// - index.html's check becomes `<script type=module src=assets/modern-check-….js>` (one module: the `throw`
//   stops it before it sets the flag, as the failed import did);
// - each entry chunk imports `./modern-guard-….js` first instead (an import that throws stops the whole module
//   graph before it runs, as the data: import did; one file per entry, each unique as plugin-legacy keeps them
//   for Safari 15).
import { createHash } from 'node:crypto'
import { mkdirSync, writeFileSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import type { Plugin, ResolvedConfig } from 'vite'

const CHECK_RE = /<script type="module">import\s*'data:text\/javascript,([^']*)';([\s\S]*?)<\/script>/
const GUARD_RE = /import\s*'data:text\/javascript,([^']*)';/
const hashOf = (source: string) => createHash('sha256').update(source).digest('base64url').slice(0, 8)

export function externalModernCheck(): Plugin {
  let config: ResolvedConfig
  let file: { name: string; source: string } | null = null
  return {
    name: 'gridcase:external-modern-check',
    apply: 'build',
    enforce: 'post',
    configResolved(resolved) {
      config = resolved
    },
    transformIndexHtml: {
      order: 'post',
      handler(html) {
        const found = CHECK_RE.exec(html)
        if (!found) {
          if (html.includes('data:text/javascript')) throw new Error('plugin-legacy changed its modern check: update scripts/modern-check.ts')
          return html
        }
        const source = `${decodeURIComponent(found[1])};${found[2]}\n`
        file = { name: `${config.build.assetsDir}/modern-check-${hashOf(source)}.js`, source }
        return html.replace(found[0], `<script type="module" src="${config.base}${file.name}"></script>`)
      },
    },
    generateBundle(_options, bundle) {
      for (const chunk of Object.values(bundle)) {
        if (chunk.type !== 'chunk') continue
        const found = GUARD_RE.exec(chunk.code)
        if (!found) continue
        const source = `${decodeURIComponent(found[1])};\n`
        const name = `modern-guard-${hashOf(source)}.js`
        this.emitFile({ type: 'asset', fileName: `${config.build.assetsDir}/${name}`, source })
        const dir = dirname(chunk.fileName)
        const rel = dir === config.build.assetsDir ? `./${name}` : `${config.base}${config.build.assetsDir}/${name}`
        chunk.code = chunk.code.replace(found[0], `import'${rel}';`)
      }
    },
    writeBundle() {
      if (!file) return
      const path = resolve(config.root, config.build.outDir, file.name)
      mkdirSync(dirname(path), { recursive: true })
      writeFileSync(path, file.source)
    },
  }
}
