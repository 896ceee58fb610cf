import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import { casesApi, type Case, type CaseCreate } from '@/api/cases'
import { visitsApi, type VisitCreate } from '@/api/visits'
import { isOfflineError } from '@/utils/errors'
import { DexieQueueStore } from '@/offline/dexieStore'
import {
  backoffDelay,
  MemoryStore,
  newItem,
  nextDueAt,
  syncQueue,
  type QueueItem,
  type QueueStore,
  type Sender,
} from '@/offline/queue'
import { apiSender } from '@/offline/sender'

export type SubmitResult<T> = { status: 'sent'; result: T; photoError?: unknown } | { status: 'queued' }

/** A plain copy: IndexedDB cannot store Vue's reactive proxies (DataCloneError). */
function plain<T>(v: T): T {
  return JSON.parse(JSON.stringify(v)) as T
}

function isOnline() {
  return typeof navigator === 'undefined' || navigator.onLine !== false
}

function defaultStore(): QueueStore {
  return typeof indexedDB === 'undefined' ? new MemoryStore() : new DexieQueueStore()
}

/** The offline queue as the UI sees it: items, online state, submit-or-queue, and automatic sync. */
export const useOfflineStore = defineStore('offline', () => {
  let store: QueueStore = defaultStore()
  let send: Sender = apiSender
  let timer: ReturnType<typeof setTimeout> | null = null
  let started = false

  const items = ref<QueueItem[]>([])
  const online = ref(isOnline())
  const syncing = ref(false)

  const pending = computed(() => items.value.filter((i) => i.state === 'pending'))
  const refused = computed(() => items.value.filter((i) => i.state === 'refused'))

  async function refresh() {
    items.value = await store.all()
  }

  function schedule() {
    if (timer) clearTimeout(timer)
    timer = null
    const due = nextDueAt(items.value)
    if (due === null || !online.value) return
    timer = setTimeout(() => void sync(), Math.max(0, due - Date.now()))
  }

  async function sync(force = false) {
    if (syncing.value) return
    syncing.value = true
    try {
      await syncQueue(store, send, { force })
    } finally {
      syncing.value = false
      await refresh()
      schedule()
    }
  }

  /** Loads the queue and syncs on start, when the network returns, and on backoff timers. */
  async function start(opts: { store?: QueueStore; sender?: Sender } = {}) {
    if (opts.store) store = opts.store
    if (opts.sender) send = opts.sender
    if (started) return
    started = true
    if (typeof window !== 'undefined') {
      window.addEventListener('online', () => {
        online.value = true
        void sync(true)
      })
      window.addEventListener('offline', () => {
        online.value = false
      })
      // WeChat and other WebViews pause pages in the background: try again when the page comes back.
      document.addEventListener('visibilitychange', () => {
        if (document.visibilityState === 'visible' && isOnline()) void sync(true)
      })
    }
    try {
      await store.all()
    } catch {
      // IndexedDB blocked (some private modes and WebViews): keep the queue in memory for this visit.
      store = new MemoryStore()
    }
    await refresh()
    if (online.value) await sync()
  }

  async function enqueue(item: QueueItem, failedOnce: boolean) {
    const now = Date.now()
    await store.put(failedOnce ? { ...item, attempts: 1, nextAttemptAt: now + backoffDelay(1) } : item)
    await refresh()
    schedule()
  }

  async function discard(id: string) {
    await store.remove(id)
    await refresh()
  }

  /** Sends a visit now, or keeps it for later when offline. Throws the server's refusal (ApiError). */
  async function submitVisit(v: VisitCreate, label: string): Promise<SubmitResult<unknown>> {
    const item = newItem('visit', v.client_uuid, plain(v), label, Date.now())
    if (!isOnline()) {
      await enqueue(item, false)
      return { status: 'queued' }
    }
    try {
      return { status: 'sent', result: await visitsApi.create(v) }
    } catch (e) {
      if (!isOfflineError(e)) throw e
      await enqueue(item, true)
      return { status: 'queued' }
    }
  }

  /** Creates a case (then uploads its photo), or keeps both for later when offline. */
  async function submitCase(c: CaseCreate, label: string, photo?: File | null): Promise<SubmitResult<Case>> {
    const item = newItem('case', c.client_key, plain(c), label, Date.now(), { photo: photo ?? null, photoName: photo?.name })
    if (!isOnline()) {
      await enqueue(item, false)
      return { status: 'queued' }
    }
    let created: Case
    try {
      created = await casesApi.create(c)
    } catch (e) {
      if (!isOfflineError(e)) throw e
      await enqueue(item, true)
      return { status: 'queued' }
    }
    if (!photo) return { status: 'sent', result: created }
    try {
      await casesApi.upload(created.id, photo, 'before', photo.name)
      return { status: 'sent', result: created }
    } catch (e) {
      if (isOfflineError(e)) {
        const followUp = { ...item, kind: 'attachment' as const, payload: { case: created.id, number: created.number } }
        await enqueue(followUp, true)
      }
      return { status: 'sent', result: created, photoError: e }
    }
  }

  return { items, online, syncing, pending, refused, start, sync, refresh, discard, submitVisit, submitCase }
})
