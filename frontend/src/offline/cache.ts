/**
 * What the worker needs with no signal, kept on the phone: today's round (addresses, phones, last visits),
 * categories, response templates, her open cases. A key → value table in IndexedDB (its own database, so the
 * queue's schema never has to move for it), with localStorage and then memory as fallbacks for WebViews that
 * block IndexedDB. Each entry remembers when it was saved, so a screen can say how old it is.
 */
import { casesApi, OPEN_STATUSES, type Case } from '@/api/cases'
import type { Page } from '@/api/types'
import { IdbTable } from './idb'

export interface CacheEntry<T = unknown> {
  key: string
  value: T
  savedAt: number
}

const PREFIX = 'gridcase.cache.'
const memory = new Map<string, CacheEntry>()
let table: IdbTable<CacheEntry> | null = null
let dbBroken = typeof indexedDB === 'undefined'

function database(): IdbTable<CacheEntry> | null {
  if (dbBroken) return null
  if (!table) table = new IdbTable<CacheEntry>('gridcase-cache', { name: 'entries', keyPath: 'key' })
  return table
}

function plain<T>(v: T): T {
  return JSON.parse(JSON.stringify(v)) as T
}

export async function cacheGet<T>(key: string): Promise<CacheEntry<T> | null> {
  // What this page kept last is the newest copy (a write to IndexedDB may still be under way).
  const kept = memory.get(key) as CacheEntry<T> | undefined
  if (kept) return kept
  const d = database()
  if (d) {
    try {
      const e = await d.get(key)
      if (e) return e as CacheEntry<T>
    } catch {
      dbBroken = true
    }
  }
  try {
    const raw = localStorage.getItem(PREFIX + key)
    if (raw) return JSON.parse(raw) as CacheEntry<T>
  } catch {
    /* storage blocked */
  }
  return null
}

export async function cacheSet<T>(key: string, value: T): Promise<void> {
  const entry: CacheEntry<T> = { key, value: plain(value), savedAt: Date.now() }
  memory.set(key, entry)
  const d = database()
  if (d) {
    try {
      await d.put(entry)
      return
    } catch {
      dbBroken = true
    }
  }
  try {
    localStorage.setItem(PREFIX + key, JSON.stringify(entry))
  } catch {
    /* quota or blocked: memory only */
  }
}

/**
 * Network first, the phone's copy when the network fails: returns the fresh value (and keeps it) or the
 * cached one with `stale: true`. Throws the network error when nothing was ever kept.
 */
export async function fresh<T>(key: string, load: () => Promise<T>): Promise<{ value: T; stale: boolean; savedAt: number }> {
  try {
    const value = await load()
    // Kept in the background: the screen shows the answer without waiting for IndexedDB.
    void cacheSet(key, value)
    return { value, stale: false, savedAt: Date.now() }
  } catch (e) {
    const c = await cacheGet<T>(key)
    if (c) return { value: c.value, stale: true, savedAt: c.savedAt }
    throw e
  }
}

/** The first page of the worker's open cases, from the server or (no signal) as last kept on the phone. */
export async function myOpenCases(): Promise<Page<Case>> {
  const r = await fresh('cases:mine', () => casesApi.list({ assignee: 'me', status: OPEN_STATUSES }))
  return r.stale ? { ...r.value, next: null } : r.value
}
