import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import { campaignsApi, type CampaignTask } from '@/api/campaigns'
import { casesApi, type Case, type CaseCreate } from '@/api/cases'
import { patrolApi, type PatrolEntry, type PatrolEntryCreate } from '@/api/patrol'
import { visitsApi, type VisitCreate } from '@/api/visits'
import { isOfflineError } from '@/utils/errors'
import { IdbQueueStore } from '@/offline/idb'
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
import { apiSender, onUploadProgress, type CampaignAnswerPayload, type SignInPayload } from '@/offline/sender'
import { deliberationApi, type Attendee } from '@/api/deliberation'
import { uuid } from '@/utils/uuid'

/**
 * `sent`: the server has it (a photo may still be uploading in the background: `photoQueued`);
 * `queued`: kept on the phone, sent when the network allows (`background`: sending has already started).
 */
export type SubmitResult<T> = { status: 'sent'; result: T; photoQueued?: boolean } | { status: 'queued'; background?: boolean }

/** A plain copy: IndexedDB cannot store Vue's reactive proxies (DataCloneError). */
function plain<T>(v: T): T {
  return JSON.parse(JSON.stringify(v)) as T
}

function isOnline() {
  return typeof navigator === 'undefined' || navigator.onLine !== false
}

function defaultStore(): QueueStore {
  return typeof indexedDB === 'undefined' ? new MemoryStore() : new IdbQueueStore()
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
  /** Upload progress (0..1) of queued photos, by queue item id. */
  const progress = ref<Record<string, number>>({})
  onUploadProgress((id, f) => {
    progress.value = { ...progress.value, [id]: f }
  })

  const pending = computed(() => items.value.filter((i) => i.state === 'pending'))
  const refused = computed(() => items.value.filter((i) => i.state === 'refused'))
  /** Photos still to go up: case photos after their case, and visits that carry one. */
  const uploads = computed(() => items.value.filter((i) => i.state === 'pending' && !!i.photo))

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

  /** Sends a visit now, or keeps it for later when offline. Throws the server's refusal (ApiError).
   *  A visit with a photo is saved on the phone first and goes up in the background, with progress. */
  async function submitVisit(v: VisitCreate, label: string, photo?: Blob | null): Promise<SubmitResult<unknown>> {
    const item = newItem('visit', v.client_uuid, plain(v), label, Date.now(), photo ? { photo, photoName: 'visit.jpg' } : {})
    if (photo) {
      await enqueue(item, false)
      if (isOnline()) void sync(true)
      return { status: 'queued', background: isOnline() }
    }
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

  /** A patrol log entry (巡查日志), sent now or kept for later like a visit: with its photo it always goes through
   *  the queue (the worker may walk on), without one it is sent at once when online. */
  async function submitPatrol(e: PatrolEntryCreate, label: string, photo?: Blob | null): Promise<SubmitResult<PatrolEntry>> {
    const item = newItem('patrol', e.client_uuid, plain(e), label, Date.now(), photo ? { photo, photoName: 'patrol.jpg' } : {})
    if (photo || !isOnline()) {
      await enqueue(item, false)
      if (photo && isOnline()) void sync(true)
      return { status: 'queued', background: isOnline() }
    }
    try {
      return { status: 'sent', result: await patrolApi.create(e) }
    } catch (err) {
      if (!isOfflineError(err)) throw err
      await enqueue(item, true)
      return { status: 'queued' }
    }
  }

  /** Creates a case, then lets its photo follow through the queue (the worker may leave the screen);
   *  or keeps both for later when offline. */
  async function submitCase(c: CaseCreate, label: string, photo?: Blob | null): Promise<SubmitResult<Case>> {
    const item = newItem('case', c.client_key, plain(c), label, Date.now(), { photo: photo ?? null, photoName: 'photo.jpg' })
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
    const followUp = { ...item, kind: 'attachment' as const, label: `${created.number} · ${label}`,
      payload: { case: created.id, number: created.number } }
    await enqueue(followUp, false)
    void sync(true)
    return { status: 'sent', result: created, photoQueued: true }
  }

  /** A sign-in at a consultation on the worker's phone (议事签到): sent now, or kept (with the time it was
   *  recorded) and sent when the network returns; the server signs each person in once per `sign_in_key`. */
  async function submitSignIn(p: SignInPayload, label: string): Promise<SubmitResult<Attendee>> {
    const payload = plain({ ...p, signed_at: p.signed_at ?? new Date().toISOString() })
    const item = newItem('signin', p.sign_in_key, payload, label, Date.now())
    if (!isOnline()) {
      await enqueue(item, false)
      return { status: 'queued' }
    }
    const { meeting, ...body } = payload
    try {
      return { status: 'sent', result: await deliberationApi.signIn(meeting, body) }
    } catch (err) {
      if (!isOfflineError(err)) throw err
      await enqueue(item, true)
      return { status: 'queued' }
    }
  }

  /** A campaign task's answers (专项排查) on the phone: sent now, or kept with their photo and sent when the network
   *  returns; the server stores them once per `client_uuid`. */
  async function submitCampaignAnswer(p: CampaignAnswerPayload, label: string, photo?: Blob | null): Promise<SubmitResult<CampaignTask>> {
    const payload = plain({ ...p, answered_at: p.answered_at ?? new Date().toISOString() })
    const item = newItem('campaign', p.client_uuid, payload, label, Date.now(), photo ? { photo, photoName: 'campaign.jpg' } : {})
    if (photo || !isOnline()) {
      await enqueue(item, false)
      if (photo && isOnline()) void sync(true)
      return { status: 'queued', background: isOnline() }
    }
    const { task, photoKey: _photoKey, ...body } = payload
    try {
      return { status: 'sent', result: await campaignsApi.answer(task, body) }
    } catch (err) {
      if (!isOfflineError(err)) throw err
      await enqueue(item, true)
      return { status: 'queued' }
    }
  }

  /** Tries a pending item again now (a failed photo, from 我的 → pending uploads). */
  async function retry(id: string) {
    // From the store, not the reactive list: IndexedDB cannot clone Vue's proxies.
    const item = (await store.all()).find((i) => i.id === id)
    if (!item) return
    await store.put({ ...item, state: 'pending', nextAttemptAt: Date.now() })
    await refresh()
    await sync(true)
  }

  /**
   * Resends a refused item with corrected content. A refusal for a different item under the same uuid (409)
   * gets a new uuid; any other refusal keeps it, since the server stored nothing under it.
   */
  async function resend(id: string, payload: Record<string, unknown>) {
    const item = (await store.all()).find((i) => i.id === id)
    if (!item) return
    let newId = item.id
    const body = { ...(item.payload as Record<string, unknown>), ...payload }
    if (item.error?.status === 409) {
      newId = uuid()
      if (item.kind === 'visit' || item.kind === 'patrol' || item.kind === 'campaign') body.client_uuid = newId
      if (item.kind === 'case') body.client_key = newId
      if (item.kind === 'signin') body.sign_in_key = newId
      await store.remove(item.id)
    }
    await store.put({
      ...item, id: newId, payload: plain(body), state: 'pending', attempts: 0,
      nextAttemptAt: Date.now(), error: undefined,
    })
    await refresh()
    await sync(true)
  }

  return { items, online, syncing, progress, pending, refused, uploads, start, sync, refresh, discard, retry, resend, submitVisit, submitCase, submitPatrol, submitSignIn, submitCampaignAnswer }
})
