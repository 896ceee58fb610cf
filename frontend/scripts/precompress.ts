// Writes `name.gz` and `name.br` beside every text asset of the build, once, at the highest levels (slow to
// make, free to serve). WhiteNoise picks them for clients that accept them (Accept-Encoding) and sets
// `Vary: Accept-Encoding`, so the server never compresses per request.
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { brotliCompressSync, constants, gzipSync } from 'node:zlib'
import type { Plugin, ResolvedConfig } from 'vite'

const TEXT = /\.(js|mjs|css|html|svg|json|webmanifest|txt)$/
const MIN_BYTES = 512 // smaller files gain nothing once headers are counted

function* files(dir: string): Generator<string> {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) yield* files(path)
    else yield path
  }
}

export function compressDir(dir: string): number {
  let written = 0
  for (const path of files(dir)) {
    if (!TEXT.test(path)) continue
    const raw = readFileSync(path)
    if (raw.length < MIN_BYTES) continue
    writeFileSync(`${path}.gz`, gzipSync(raw, { level: 9 }))
    writeFileSync(
      `${path}.br`,
      brotliCompressSync(raw, {
        params: {
          [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY,
          [constants.BROTLI_PARAM_SIZE_HINT]: raw.length,
        },
      }),
    )
    written += 1
  }
  return written
}

export function precompress(): Plugin {
  let config: ResolvedConfig
  return {
    name: 'gridcase:precompress',
    apply: 'build',
    configResolved(resolved) {
      config = resolved
    },
    closeBundle: {
      order: 'post',
      sequential: true,
      handler() {
        const outDir = resolve(config.root, config.build.outDir)
        const n = compressDir(outDir)
        config.logger.info(`precompressed ${n} files (gzip, brotli)`)
      },
    },
  }
}
