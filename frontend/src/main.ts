import { createApp } from 'vue'
import { createPinia } from 'pinia'
// Styles of Vant's function components (showToast, showDialog, showNotify) are not auto-imported.
import 'vant/es/toast/style'
import 'vant/es/dialog/style'
import 'vant/es/notify/style'
import 'vant/es/image-preview/style'
import './styles/base.css'
import App from './App.vue'
import { i18n, localeReady } from './locales'
import { createAppRouter } from './router'
import { onUnauthorized } from './api/http'
import { useSessionStore } from './stores/session'
import { usePrefsStore } from './stores/prefs'

const app = createApp(App)
const pinia = createPinia()
app.use(pinia)
app.use(i18n)
const router = createAppRouter()
app.use(router)

usePrefsStore() // applies the large-mode class before the first paint

onUnauthorized(() => {
  useSessionStore().signedOut()
  const here = router.currentRoute.value
  if (here.name !== 'login') void router.push({ name: 'login', query: { next: here.fullPath } })
})

// A phone that chose English loads its messages first (zh-CN, the default, needs nothing more).
void localeReady.then(() => app.mount('#app'))

// Production builds register the service worker (served by Django at /sw.js, scope /), so the worker app
// opens again with no signal. Development (Vite's server) runs without it.
if (import.meta.env.PROD && 'serviceWorker' in navigator) {
  window.addEventListener('load', () => {
    navigator.serviceWorker.register('/sw.js').catch(() => undefined)
  })
}
