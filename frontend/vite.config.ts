/// <reference types="vitest/config" />
import { fileURLToPath, URL } from 'node:url'
import { defineConfig } from 'vite'
import vue from '@vitejs/plugin-vue'
import Components from 'unplugin-vue-components/vite'
import { VantResolver } from '@vant/auto-import-resolver'
import legacy from '@vitejs/plugin-legacy'
import { precompress } from './scripts/precompress.ts'
import { externalModernCheck } from './scripts/modern-check.ts'
import { vantIconFontAsFile } from './scripts/vant-icon-font.ts'

const backend = process.env.GRIDCASE_BACKEND ?? 'http://127.0.0.1:8000'
// Shared code: everything under src/ but the screens (src/apps/), and the SFC helper every component imports
// (left to the groups' dependency capture, it lands in whichever screen chunk comes first, e.g. the dashboard's,
// and shared components land in the console's).
const APP_SHARED = /[\\/]src[\\/](?!apps[\\/])|plugin-vue:export-helper/
// The case detail (mobile and console): its actions, journey, timeline and store.
const CASEWORK = /[\\/]src[\\/](components[\\/](Case(DetailView|Actions|Journey|Timeline))\.vue|stores[\\/]caseDetail\.ts|api[\\/]organisation\.ts)/
const short = (name: string) => name.split('~')[0]
export const LEGACY_TARGETS = ['chrome >= 53', 'android >= 5', 'ios >= 10', 'safari >= 10']
const proxied = ['/api', '/admin', '/media', '/healthz']

// Django serves dist/ as /static/ and dist/index.html for every non-API path, so the build uses base
// /static/. The dev server serves the app at / (history routes reload there) and passes Django's own
// /static/ (admin, DRF styles) through to Django.
export default defineConfig(({ command, isPreview }) => ({
  base: command === 'build' || isPreview ? '/static/' : '/',
  plugins: [
    vue(),
    Components({ resolvers: [VantResolver()], dts: 'components.d.ts' }),
    vantIconFontAsFile(), // Vant's icon font as a cached file, not 34 KB of base64 in render-blocking CSS
    // Old phones: grid workers open the app from WeChat (the X5/TBS core, Chromium 53–66) and Android 8–10
    // WebViews that were never updated. Modern chunks (<script type=module>) keep plugin-legacy's default
    // modern target (Chrome/Edge 105, Safari 16.4); any browser without `import.meta.resolve` runs the legacy
    // build instead: SystemJS chunks, ES2015 syntax (checked by scripts/check-legacy.mjs), core-js polyfills
    // for what the code uses. Its inline loader scripts are allowed by hash in the CSP (settings.py).
    // GRIDCASE_SKIP_LEGACY=1: a quicker development build without the legacy bundles (never for a release).
    ...(process.env.GRIDCASE_SKIP_LEGACY === '1'
      ? []
      : [
          legacy({ targets: LEGACY_TARGETS }),
          externalModernCheck(), // its modern/legacy check as a file, not a `data:` import the CSP would refuse
        ]),
    // gzip and brotli copies of every text asset, written once at build time; WhiteNoise serves them.
    precompress(),
  ],
  // Features the app does not use, left out of the build (smaller vendor chunk): Vue's Options API (every
  // component uses <script setup>) and vue-i18n's legacy API (the app runs it with `legacy: false`).
  define:
    command === 'build'
      ? { __VUE_OPTIONS_API__: 'false', __VUE_I18N_LEGACY_API__: 'false', __VUE_I18N_FULL_INSTALL__: 'false', __INTLIFY_PROD_DEVTOOLS__: 'false' }
      : {},
  resolve: {
    alias: { '@': fileURLToPath(new URL('./src', import.meta.url)) },
  },
  server: {
    proxy: Object.fromEntries([...proxied, '/static'].map((p) => [p, { target: backend, changeOrigin: false }])),
  },
  preview: {
    proxy: Object.fromEntries(proxied.map((p) => [p, { target: backend, changeOrigin: false }])),
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    cssTarget: 'chrome53', // the X5 core's oldest Chromium; plugin-legacy would set chrome61
    chunkSizeWarningLimit: 600,
    rolldownOptions: {
      output: {
        // Shared chunks (vant, parts) are named after every route sharing them (vant~A~B~C…): shortened to vant-[hash].
        chunkFileNames: (chunk) => `assets/${short(chunk.name)}-[hash].js`,
        assetFileNames: (asset) => `assets/${short(asset.names[0]?.replace(/\.[^.]+$/, '') ?? 'asset')}-[hash][extname]`,
        // A few named chunks instead of dozens of tiny ones (weak signal: fewer requests). ECharts is only
        // reached from the lazy dashboard route, so the mobile app never downloads it.
        codeSplitting: {
          groups: [
            { name: 'vendor', test: /[\\/]node_modules[\\/](@vue|vue|vue-router|pinia|vue-i18n|@intlify)[\\/]/, priority: 30 },
            { name: 'dashboard', test: /[\\/]src[\\/]apps[\\/]console[\\/](DashboardPage\.vue|charts\.ts)/, priority: 25 },
            // The worker's pages and the Vant components each uses (with their CSS) are left to per-route chunks,
            // so the first screen downloads only the round.
            // Vant split by who loads it: the components (and CSS) every screen needs in one chunk, those
            // only some routes use in chunks those routes share.
            { name: 'vant', test: /[\\/]node_modules[\\/](vant|@vant)[\\/]/, priority: 29, entriesAware: true, entriesAwareMergeThreshold: 0 },
            { name: 'console', test: /[\\/]src[\\/]apps[\\/](console|department)[\\/]/, priority: 20 },
            // The shell every screen loads: the shared code the entry imports (API client, router, stores,
            // locales). Ranked above the screen groups so they do not pull it into themselves (Vant, ranked
            // higher, stays out of it).
            { name: 'app', test: APP_SHARED, tags: ['$initial'], priority: 28 },
            // Shared code only some screens use (components, their API modules, the offline queue): split by who
            // loads it, like Vant, so the round (the worker's first screen) never downloads the case detail's or
            // the console's parts.
            // (Small sets are merged into a neighbour, which may be one the round loads: the case screens' parts
            // are kept together apart from them.)
            { name: 'parts', test: (id: string) => APP_SHARED.test(id) && !CASEWORK.test(id), priority: 27, entriesAware: true, entriesAwareMergeThreshold: 8000 },
            { name: 'casework', test: CASEWORK, priority: 26 },
          ],
        },
      },
    },
  },
  test: {
    environment: 'happy-dom',
    include: ['src/**/*.test.ts'],
    setupFiles: ['src/test-setup.ts'], // the console's messages, as its layout merges them in the app
    css: false,
    server: { deps: { inline: ['vant'] } },
  },
}))
