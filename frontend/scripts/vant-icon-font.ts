// Vant's icon font (≈ 25 KB of woff2) is inlined as base64 in its icon CSS, so every screen's render-blocking
// stylesheet carries it (base64 on top of an already compressed font), followed by a fallback on Alibaba's CDN
// that our CSP refuses. This writes the font out as a file the build hashes and serves like any asset — cached
// for a year, fetched in parallel, not blocking the first paint — and drops the CDN fallback.
import { createHash } from 'node:crypto'
import { mkdirSync, writeFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import type { Plugin, ResolvedConfig } from 'vite'

const ICON_CSS = /[\\/]vant[\\/](es|lib)[\\/]icon[\\/]index\.css$/
const INLINE_FONT = /src:url\(data:font\/woff2;(?:charset=utf-8;)?base64,([A-Za-z0-9+/=]+)\) format\("woff2"\)[^;}]*/

export function vantIconFontAsFile(): Plugin {
  let config: ResolvedConfig
  return {
    name: 'gridcase:vant-icon-font-file',
    enforce: 'pre',
    apply: 'build',
    configResolved(resolved) {
      config = resolved
    },
    transform(code, id) {
      if (!ICON_CSS.test(id.split('?')[0])) return null
      const found = INLINE_FONT.exec(code)
      if (!found) return null
      const bytes = Buffer.from(found[1], 'base64')
      const dir = resolve(config.root, 'node_modules', '.cache', 'gridcase')
      mkdirSync(dir, { recursive: true })
      const file = join(dir, `vant-icon-${createHash('sha256').update(bytes).digest('hex').slice(0, 8)}.woff2`)
      writeFileSync(file, bytes)
      const url = relative(dirname(id.split('?')[0]), file).split('\\').join('/')
      return { code: code.replace(found[0], `src:url("${url}") format("woff2")`), map: null }
    },
  }
}
