import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createPinia, setActivePinia } from 'pinia'
import { MemoryStore } from '@/offline/queue'
import { useOfflineStore } from './offline'

// Sign-in at a consultation from the phone (议事签到): kept with the tap's time when offline and sent later under
// the same sign_in_key, so the server signs the person in once.
function json(status: number, body: unknown) {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } })
}

function setOnline(on: boolean) {
  Object.defineProperty(window.navigator, 'onLine', { configurable: true, get: () => on })
}

describe('offline sign-in', () => {
  let fetchMock: ReturnType<typeof vi.fn>
  let store: MemoryStore

  beforeEach(() => {
    setActivePinia(createPinia())
    document.cookie = 'csrftoken=tok; path=/'
    fetchMock = vi.fn()
    vi.stubGlobal('fetch', fetchMock)
    store = new MemoryStore()
    setOnline(true)
  })
  afterEach(() => {
    vi.unstubAllGlobals()
    setOnline(true)
  })

  it('queues offline with the time of the tap and sends it once, under the same key, when back online', async () => {
    setOnline(false)
    const offline = useOfflineStore()
    await offline.start({ store })
    const r = await offline.submitSignIn({ meeting: 7, attendee: 3, sign_in_key: 'key-1' }, '港云里停车难 · 王秀英')
    expect(r.status).toBe('queued')
    expect(fetchMock).not.toHaveBeenCalled()
    const [item] = await store.all()
    expect(item.kind).toBe('signin')
    expect(item.id).toBe('key-1')
    const tapped = (item.payload as { signed_at: string }).signed_at
    expect(tapped).toBeTruthy()

    setOnline(true)
    fetchMock.mockResolvedValue(json(201, { id: 3, signed_in_at: tapped }))
    await offline.sync(true)
    expect(fetchMock).toHaveBeenCalledTimes(1)
    const [url, init] = fetchMock.mock.calls[0]
    expect(String(url)).toContain('/api/v1/meetings/7/sign_in/')
    expect(JSON.parse(init.body)).toEqual({ attendee: 3, sign_in_key: 'key-1', signed_at: tapped })
    expect(await store.all()).toEqual([])
  })

  it('sends at once when online', async () => {
    fetchMock.mockResolvedValue(json(201, { id: 3, signed_in_at: '2026-12-02T11:00:00Z' }))
    const offline = useOfflineStore()
    await offline.start({ store })
    const r = await offline.submitSignIn({ meeting: 7, name: '王大爷', sign_in_key: 'key-2' }, '王大爷')
    expect(r.status).toBe('sent')
    expect(await store.all()).toEqual([])
  })
})
