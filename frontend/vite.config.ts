/// <reference types="vitest/config" />
import { fileURLToPath, URL } from 'node:url'
import { defineConfig } from 'vite'
import vue from '@vitejs/plugin-vue'
import Components from 'unplugin-vue-components/vite'
import { VantResolver } from '@vant/auto-import-resolver'

const backend = process.env.GRIDCASE_BACKEND ?? 'http://127.0.0.1:8000'
// The worker app and its offline queue (dexie) stay out of the console's downloads.
const MOBILE_ONLY =
  /[\\/](src[\\/](apps[\\/]mobile[\\/]|offline[\\/]|stores[\\/](offline|visits)\.ts|components[\\/]OfflineQueueList)|node_modules[\\/]dexie[\\/])/
const proxied = ['/api', '/admin', '/media', '/healthz']

// Django serves dist/ as /static/ and dist/index.html for every non-API path, so the build uses base
// /static/. The dev server serves the app at / (history routes reload there) and passes Django's own
// /static/ (admin, DRF styles) through to Django.
export default defineConfig(({ command, isPreview }) => ({
  base: command === 'build' || isPreview ? '/static/' : '/',
  plugins: [
    vue(),
    Components({ resolvers: [VantResolver()], dts: 'components.d.ts' }),
  ],
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
    chunkSizeWarningLimit: 600,
    rolldownOptions: {
      output: {
        // A few named chunks instead of dozens of tiny ones (weak signal: fewer requests). ECharts is only
        // reached from the lazy dashboard route, so the mobile app never downloads it.
        codeSplitting: {
          groups: [
            { name: 'vendor', test: /[\\/]node_modules[\\/](@vue|vue|vue-router|pinia|vue-i18n|@intlify)[\\/]/, priority: 30 },
            { name: 'vant', test: /[\\/]node_modules[\\/](vant|@vant)[\\/]/, priority: 30 },
            { name: 'dashboard', test: /[\\/]src[\\/]apps[\\/]console[\\/](DashboardPage\.vue|charts\.ts)/, priority: 25 },
            {
              name: 'mobile',
              test: MOBILE_ONLY,
              priority: 22,
            },
            { name: 'console', test: /[\\/]src[\\/]apps[\\/](console|department)[\\/]/, priority: 20 },
            // Shared code (API client, stores, components, locales) in one chunk every screen loads; ranked above
            // the screen groups so they do not pull it into themselves.
            { name: 'app', test: (id: string) => /[\\/]src[\\/]/.test(id) && !MOBILE_ONLY.test(id) && !/[\\/]src[\\/]apps[\\/]/.test(id), priority: 28 },
          ],
        },
      },
    },
  },
  test: {
    environment: 'happy-dom',
    include: ['src/**/*.test.ts'],
    css: false,
    server: { deps: { inline: ['vant'] } },
  },
}))
