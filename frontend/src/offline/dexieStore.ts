/**
 * Everything that needs Dexie, in one module the app imports dynamically (`import('./dexieStore')`), so dexie
 * (about 30 KB gzipped) is never part of the worker's first screen: the queue and the phone's copies load it
 * the first time they touch IndexedDB.
 */
import Dexie, { type Table } from 'dexie'
import type { CacheEntry } from './cache'
import type { QueueItem, QueueStore } from './queue'

class GridCaseDB extends Dexie {
  queue!: Table<QueueItem, string>

  constructor(name = 'gridcase') {
    super(name)
    this.version(1).stores({ queue: 'id, state, createdAt' })
  }
}

export class DexieQueueStore implements QueueStore {
  private db: GridCaseDB

  constructor(name?: string) {
    this.db = new GridCaseDB(name)
  }

  all() {
    return this.db.queue.orderBy('createdAt').toArray()
  }

  async put(item: QueueItem) {
    await this.db.queue.put(item)
  }

  async remove(id: string) {
    await this.db.queue.delete(id)
  }
}

/** The phone's copies (offline/cache.ts): a key → value table in its own database. */
export class CacheDB extends Dexie {
  entries!: Table<CacheEntry, string>

  constructor(name: string) {
    super(name)
    this.version(1).stores({ entries: 'key' })
  }
}
