/* GridCase service worker: lets the worker app open again with no signal (a stairwell, a lift).
 *
 * - Page loads (navigations): network first; the last page shell is kept and served when offline.
 * - Built assets under /static/assets/ are content-hashed: cache first, kept once fetched.
 * - The API is never cached here: the app keeps its own offline data (round, profile, queued visits).
 */
const VERSION = 'gridcase-v1'
const SHELL = '/__app-shell__'

self.addEventListener('install', (event) => {
  event.waitUntil(
    caches.open(VERSION).then((cache) => cache.add(new Request('/', { credentials: 'same-origin' })).then(
      (ok) => ok,
      () => undefined, // offline at install time: the next online page load fills the shell
    ).then(() => cache.match('/').then((r) => (r ? cache.put(SHELL, r) : undefined)))),
  )
  self.skipWaiting()
})

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(keys.filter((k) => k !== VERSION).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  )
})

function isAppRoute(url) {
  return !/^\/(api|admin|media|static|healthz|readyz)(\/|$)/.test(url.pathname)
}

self.addEventListener('fetch', (event) => {
  const request = event.request
  if (request.method !== 'GET') return
  const url = new URL(request.url)
  if (url.origin !== self.location.origin) return

  if (request.mode === 'navigate' && isAppRoute(url)) {
    const shell = () => caches.open(VERSION).then((cache) => cache.match(SHELL))
    const network = fetch(request).then((response) => {
      if (response.ok) {
        const copy = response.clone()
        caches.open(VERSION).then((cache) => cache.put(SHELL, copy))
      }
      return response
    })
    // One bar of signal: if the network has not answered in 4 s and a shell is kept, open that instead.
    const slow = new Promise((resolve) => setTimeout(resolve, 4000)).then(shell)
    event.respondWith(
      Promise.race([network, slow.then((cached) => cached || network)])
        .catch(() => shell().then(
          (cached) => cached || new Response('offline', { status: 503, headers: { 'Content-Type': 'text/plain' } }),
        )),
    )
    return
  }

  if (url.pathname.startsWith('/static/assets/') || url.pathname === '/static/favicon.svg') {
    event.respondWith(
      caches.open(VERSION).then((cache) =>
        cache.match(request).then((hit) => hit || fetch(request).then((response) => {
          if (response.ok) cache.put(request, response.clone())
          return response
        })),
      ),
    )
  }
})
