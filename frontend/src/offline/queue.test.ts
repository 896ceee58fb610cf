import { describe, expect, it, vi } from 'vitest'
import 'fake-indexeddb/auto'
import { ApiError, NetworkError } from '@/api/http'
import { IdbQueueStore } from './idb'
import {
  BACKOFF_MAX_MS,
  MemoryStore,
  backoffDelay,
  classify,
  newItem,
  nextDueAt,
  syncQueue,
  type QueueItem,
} from './queue'

const T0 = 1_700_000_000_000

function visit(id: string, at = T0) {
  // Created a little in the past so every test item is due at T0.
  return { ...newItem('visit', id, { client_uuid: id, resident: 1 }, `visit ${id}`, at), nextAttemptAt: T0 - 1 }
}

async function storeWith(...items: QueueItem[]) {
  const s = new MemoryStore()
  for (const i of items) await s.put(i)
  return s
}

describe('backoff and classification', () => {
  it('doubles from 5 s and caps at 10 minutes', () => {
    expect(backoffDelay(1)).toBe(5_000)
    expect(backoffDelay(2)).toBe(10_000)
    expect(backoffDelay(3)).toBe(20_000)
    expect(backoffDelay(50)).toBe(BACKOFF_MAX_MS)
  })

  it('retries network failures, 408, 429 and 5xx; refuses other 4xx; waits on 401', () => {
    expect(classify(new NetworkError())).toBe('retry')
    expect(classify(new ApiError(408, null))).toBe('retry')
    expect(classify(new ApiError(429, { code: 'throttled' }))).toBe('retry')
    expect(classify(new ApiError(503, null))).toBe('retry')
    expect(classify(new ApiError(400, { code: 'validation_error' }))).toBe('refused')
    expect(classify(new ApiError(409, { code: 'conflict' }))).toBe('refused')
    expect(classify(new ApiError(403, { code: 'forbidden' }))).toBe('refused')
    expect(classify(new ApiError(401, null))).toBe('wait_login')
    expect(classify(new ApiError(403, { code: 'not_authenticated' }))).toBe('wait_login')
  })
})

describe('syncQueue', () => {
  it('removes items the server stored (201 or 200 for a repeat) and sends the same uuid', async () => {
    const store = await storeWith(visit('a'), visit('b', T0 + 1))
    const sent: string[] = []
    const send = vi.fn(async (i: QueueItem) => {
      sent.push((i.payload as { client_uuid: string }).client_uuid)
      return null
    })
    const r = await syncQueue(store, send, { now: () => T0 })
    expect(r).toEqual({ stored: 2, retry: 0, refused: 0, stopped: false })
    expect(sent).toEqual(['a', 'b']) // oldest first, each with its own uuid
    expect(await store.all()).toEqual([])
  })

  it('keeps a refused item visible with the server reason and does not retry it', async () => {
    const store = await storeWith(visit('a'))
    const send = vi.fn(async () => {
      throw new ApiError(409, { code: 'conflict', message: '同一编号的走访内容不同' })
    })
    const r = await syncQueue(store, send, { now: () => T0 })
    expect(r.refused).toBe(1)
    const [item] = await store.all()
    expect(item.state).toBe('refused')
    expect(item.error).toEqual({ status: 409, code: 'conflict', message: '同一编号的走访内容不同' })
    await syncQueue(store, send, { now: () => T0 + 3_600_000, force: true })
    expect(send).toHaveBeenCalledTimes(1)
  })

  it('backs off after a network failure and stops trying the rest of the queue', async () => {
    const store = await storeWith(visit('a'), visit('b', T0 + 1))
    const send = vi.fn(async () => {
      throw new NetworkError()
    })
    const r = await syncQueue(store, send, { now: () => T0, lanes: 1 })
    expect(r).toEqual({ stored: 0, retry: 1, refused: 0, stopped: true })
    expect(send).toHaveBeenCalledTimes(1)
    const a = (await store.all()).find((i) => i.id === 'a')!
    expect(a.attempts).toBe(1)
    expect(a.nextAttemptAt).toBe(T0 + 5_000)
    expect(a.state).toBe('pending')
  })

  it('sends three items side by side, oldest first, and stores each once', async () => {
    const store = await storeWith(...Array.from({ length: 10 }, (_, k) => visit(`v${k}`, T0 + k)))
    const started: string[] = []
    let inFlight = 0
    let most = 0
    const send = vi.fn(async (i: QueueItem) => {
      started.push(i.id)
      most = Math.max(most, ++inFlight)
      await new Promise((r) => setTimeout(r, 5 + (i.id.charCodeAt(1) % 3)))
      inFlight--
      return null
    })
    const r = await syncQueue(store, send, { now: () => T0 })
    expect(r).toEqual({ stored: 10, retry: 0, refused: 0, stopped: false })
    expect(most).toBe(3)
    expect(started).toEqual(Array.from({ length: 10 }, (_, k) => `v${k}`))
    expect(send).toHaveBeenCalledTimes(10)
    expect(await store.all()).toEqual([])
  })

  it('when the network drops, stops after the items already in flight and leaves the rest untouched', async () => {
    const store = await storeWith(...Array.from({ length: 8 }, (_, k) => visit(`v${k}`, T0 + k)))
    const send = vi.fn(async () => {
      await new Promise((r) => setTimeout(r, 2))
      throw new NetworkError()
    })
    const r = await syncQueue(store, send, { now: () => T0 })
    expect(r.stopped).toBe(true)
    expect(send).toHaveBeenCalledTimes(3)
    const tried = (await store.all()).filter((i) => i.attempts === 1).map((i) => i.id)
    expect(tried).toEqual(['v0', 'v1', 'v2'])
  })

  it('waits for the backoff time unless forced (the online event)', async () => {
    const item = { ...visit('a'), attempts: 2, nextAttemptAt: T0 + 10_000 }
    const store = await storeWith(item)
    const send = vi.fn(async () => null)
    await syncQueue(store, send, { now: () => T0 })
    expect(send).not.toHaveBeenCalled()
    await syncQueue(store, send, { now: () => T0, force: true })
    expect(send).toHaveBeenCalledTimes(1)
    expect(await store.all()).toEqual([])
  })

  it('retries throttled items with a growing delay but continues with the others', async () => {
    const store = await storeWith({ ...visit('a'), attempts: 2 }, visit('b', T0 + 1))
    const send = vi.fn(async (i: QueueItem) => {
      if (i.id === 'a') throw new ApiError(429, { code: 'throttled', message: '请求过于频繁' })
      return null
    })
    const r = await syncQueue(store, send, { now: () => T0 })
    expect(r).toEqual({ stored: 1, retry: 1, refused: 0, stopped: false })
    const [a] = await store.all()
    expect(a.id).toBe('a')
    expect(a.attempts).toBe(3)
    expect(a.nextAttemptAt).toBe(T0 + 20_000)
  })

  it('replaces an item by its follow-up (case stored, photo still to send)', async () => {
    const photo = new Blob(['x'], { type: 'image/jpeg' })
    const store = await storeWith(newItem('case', 'k1', { client_key: 'k1' }, 'leak', T0, { photo }))
    const send = vi.fn(async (i: QueueItem) =>
      i.kind === 'case' ? { ...i, kind: 'attachment' as const, payload: { case: 9, number: 'N-9' } } : null,
    )
    await syncQueue(store, send, { now: () => T0 })
    const [follow] = await store.all()
    expect(follow.kind).toBe('attachment')
    expect(follow.payload).toEqual({ case: 9, number: 'N-9' })
    expect(follow.state).toBe('pending')
    await syncQueue(store, send, { now: () => T0 })
    expect(await store.all()).toEqual([])
  })

  it('nextDueAt looks at pending items only', () => {
    expect(nextDueAt([])).toBeNull()
    expect(
      nextDueAt([
        { ...visit('a'), nextAttemptAt: T0 + 50 },
        { ...visit('b'), nextAttemptAt: T0 + 10, state: 'refused' },
        { ...visit('c'), nextAttemptAt: T0 + 20 },
      ]),
    ).toBe(T0 + 20)
  })
})

describe('IdbQueueStore (fake IndexedDB)', () => {
  it('stores, lists in creation order and removes items', async () => {
    const store = new IdbQueueStore(`test-${Math.random()}`)
    await store.put(visit('b', T0 + 5))
    await store.put(visit('a', T0))
    expect((await store.all()).map((i) => i.id)).toEqual(['a', 'b'])
    await store.put({ ...visit('a', T0), attempts: 3 })
    expect((await store.all()).find((i) => i.id === 'a')!.attempts).toBe(3)
    await store.remove('a')
    expect((await store.all()).map((i) => i.id)).toEqual(['b'])
  })

  it('works with syncQueue end to end', async () => {
    const store = new IdbQueueStore(`test-${Math.random()}`)
    await store.put(visit('a'))
    await store.put(visit('b', T0 + 1))
    const send = vi.fn(async (i: QueueItem) => {
      if (i.id === 'b') throw new ApiError(400, { code: 'validation_error', message: '居民不存在' })
      return null
    })
    await syncQueue(store, send, { now: () => T0 })
    const left = await store.all()
    expect(left.map((i) => [i.id, i.state, i.error?.message])).toEqual([['b', 'refused', '居民不存在']])
  })

  it("reads and writes the queue and the kept copies that earlier versions wrote with Dexie (a phone's carry over)", async () => {
    const { default: Dexie } = await import('dexie')
    const name = `old-${Math.random()}`
    const old = new Dexie(name)
    old.version(1).stores({ queue: 'id, state, createdAt' })
    const photo = new Blob(['jpeg'], { type: 'image/jpeg' })
    await old.table('queue').bulkPut([visit('b', T0 + 5), { ...visit('a', T0), photo }])
    const cacheName = `old-cache-${Math.random()}`
    const oldCache = new Dexie(cacheName)
    oldCache.version(1).stores({ entries: 'key' })
    await oldCache.table('entries').put({ key: 'categories', value: [{ id: 1 }], savedAt: T0 })
    old.close()
    oldCache.close()

    const store = new IdbQueueStore(name)
    const items = await store.all()
    expect(items.map((i) => i.id)).toEqual(['a', 'b'])
    expect(items[0].photo).toBeTruthy() // (fake-indexeddb's clone of happy-dom's Blob is not a Blob again)
    await store.remove('a')
    await store.put({ ...visit('c', T0 + 9) })
    expect((await store.all()).map((i) => i.id)).toEqual(['b', 'c'])
    const { IdbTable } = await import('./idb')
    const cache = new IdbTable<{ key: string; value: unknown }>(cacheName, { name: 'entries', keyPath: 'key' })
    expect((await cache.get('categories'))?.value).toEqual([{ id: 1 }])

    // And Dexie still opens what this wrote (a phone going back to an older version keeps its queue).
    const again = new Dexie(name)
    again.version(1).stores({ queue: 'id, state, createdAt' })
    expect((await again.table('queue').orderBy('createdAt').toArray()).map((i: QueueItem) => i.id)).toEqual(['b', 'c'])
    again.close()
  })
})
