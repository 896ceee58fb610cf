import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import 'fake-indexeddb/auto'
import { createPinia, setActivePinia } from 'pinia'
import { reactive } from 'vue'
import { IdbQueueStore } from '@/offline/idb'
import { ApiError } from '@/api/http'
import type { VisitCreate } from '@/api/visits'
import { MemoryStore } from '@/offline/queue'
import { useOfflineStore } from './offline'

function json(status: number, body: unknown) {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } })
}

const visit: VisitCreate = {
  client_uuid: '0b7e4c1e-1111-4222-8333-444455556666',
  resident: 42,
  kind: 'home',
  visited_at: '2026-11-28T02:00:00Z',
  wellbeing: 'good',
  findings: '',
  needs: [],
}

function setOnline(on: boolean) {
  Object.defineProperty(window.navigator, 'onLine', { configurable: true, get: () => on })
}

describe('offline store', () => {
  let fetchMock: ReturnType<typeof vi.fn>
  let store: MemoryStore

  beforeEach(async () => {
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

  it('sends directly when online', async () => {
    fetchMock.mockResolvedValue(json(201, { id: 1, ...visit }))
    const offline = useOfflineStore()
    await offline.start({ store })
    const r = await offline.submitVisit(visit, '张桂兰')
    expect(r.status).toBe('sent')
    expect(offline.items).toEqual([])
  })

  it('queues when the browser says it is offline, and sends the same uuid when back online', async () => {
    setOnline(false)
    const offline = useOfflineStore()
    await offline.start({ store })
    const r = await offline.submitVisit(visit, '张桂兰')
    expect(r.status).toBe('queued')
    expect(fetchMock).not.toHaveBeenCalled()
    expect(offline.pending.map((i) => i.id)).toEqual([visit.client_uuid])

    // 200 (already stored) counts as stored as much as 201.
    fetchMock.mockResolvedValue(json(200, { id: 1, ...visit }))
    setOnline(true)
    window.dispatchEvent(new Event('online'))
    await vi.waitFor(() => expect(offline.items).toEqual([]))
    const body = JSON.parse(fetchMock.mock.calls.at(-1)![1].body)
    expect(body.client_uuid).toBe(visit.client_uuid)
  })

  it('keeps a patrol log entry offline and sends it once, to patrol-entries/, with the same uuid', async () => {
    setOnline(false)
    const offline = useOfflineStore()
    await offline.start({ store })
    const entry = { client_uuid: '9c1e0a52-2222-4333-8444-555566667777', grid: 4, at: '2026-11-28T02:00:00Z', note: '路灯不亮' }
    const r = await offline.submitPatrol(entry, '路灯不亮')
    expect(r.status).toBe('queued')
    expect(fetchMock).not.toHaveBeenCalled()
    fetchMock.mockResolvedValue(json(201, { id: 5, ...entry }))
    setOnline(true)
    window.dispatchEvent(new Event('online'))
    await vi.waitFor(() => expect(offline.items).toEqual([]))
    expect(fetchMock).toHaveBeenCalledTimes(1)
    expect(String(fetchMock.mock.calls[0][0])).toContain('patrol-entries/')
    expect(JSON.parse(fetchMock.mock.calls[0][1].body).client_uuid).toBe(entry.client_uuid)
  })

  it('queues on a network failure', async () => {
    fetchMock.mockRejectedValue(new TypeError('Failed to fetch'))
    const offline = useOfflineStore()
    await offline.start({ store })
    const r = await offline.submitVisit(visit, '张桂兰')
    expect(r.status).toBe('queued')
    expect(offline.pending[0].attempts).toBe(1)
  })

  it('throws a refusal to the form instead of queueing it', async () => {
    fetchMock.mockResolvedValue(json(400, { code: 'validation_error', message: '居民不在您的网格内' }))
    const offline = useOfflineStore()
    await offline.start({ store })
    await expect(offline.submitVisit(visit, '张桂兰')).rejects.toBeInstanceOf(ApiError)
    expect(offline.items).toEqual([])
  })

  it('stores a payload built from reactive form state in IndexedDB (no DataCloneError)', async () => {
    setOnline(false)
    const offline = useOfflineStore()
    await offline.start({ store: new IdbQueueStore(`test-${Math.random()}`) })
    const form = reactive({ needs: ['meals', 'repairs'] as VisitCreate['needs'] })
    const r = await offline.submitVisit({ ...visit, needs: form.needs }, '张桂兰')
    expect(r.status).toBe('queued')
    expect((offline.items[0].payload as VisitCreate).needs).toEqual(['meals', 'repairs'])
  })

  it('sets a refused item aside with the reason, and resends it corrected (a 409 under a new uuid)', async () => {
    setOnline(false)
    const offline = useOfflineStore()
    await offline.start({ store })
    await offline.submitVisit({ ...visit, findings: 'x' }, '张桂兰')
    fetchMock.mockResolvedValueOnce(json(409, { code: 'conflict', message: '同一编号的走访内容不同' }))
    setOnline(true)
    await offline.sync(true)
    expect(offline.refused.map((i) => i.error?.message)).toEqual(['同一编号的走访内容不同'])

    fetchMock.mockResolvedValueOnce(json(201, { id: 2, ...visit }))
    await offline.resend(visit.client_uuid, { findings: '更正后的情况' })
    await vi.waitFor(() => expect(offline.items).toEqual([]))
    const body = JSON.parse(fetchMock.mock.calls.at(-1)![1].body)
    expect(body.findings).toBe('更正后的情况')
    expect(body.client_uuid).not.toBe(visit.client_uuid)
  })

  it('keeps a visit with a photo on the phone first and sends it as one multipart form', async () => {
    const sent: FormData[] = []
    class FakeXHR {
      status = 201
      responseText = JSON.stringify({ id: 3, ...visit })
      upload = { onprogress: null as null | ((e: unknown) => void) }
      onload: null | (() => void) = null
      onerror: null | (() => void) = null
      withCredentials = false
      open() {}
      setRequestHeader() {}
      send(form: FormData) {
        sent.push(form)
        this.upload.onprogress?.({ lengthComputable: true, loaded: 5, total: 10 })
        setTimeout(() => this.onload?.(), 0)
      }
    }
    vi.stubGlobal('XMLHttpRequest', FakeXHR)
    const offline = useOfflineStore()
    await offline.start({ store })
    const r = await offline.submitVisit(visit, '张桂兰', new Blob(['jpeg'], { type: 'image/jpeg' }))
    expect(r).toEqual({ status: 'queued', background: true })
    await vi.waitFor(() => expect(offline.items).toEqual([]))
    expect(sent).toHaveLength(1)
    expect(sent[0].get('client_uuid')).toBe(visit.client_uuid)
    expect(sent[0].get('photo')).toBeInstanceOf(Blob)
    expect(offline.progress[visit.client_uuid]).toBe(1)
  })
})
