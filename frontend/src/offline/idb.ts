/**
 * The phone's IndexedDB without a library. The queue and the kept copies each need one table (get, put,
 * delete, all in creation order): a few lines of IndexedDB, where Dexie was 30 KB gzipped of the worker's first
 * screen. The databases keep the names, schemas and version Dexie gave them (its version 1 is IndexedDB's
 * 10), so a phone's queue and copies carry over. Only what the oldest WebViews have (no getAll): cursors.
 */
import type { QueueItem, QueueStore } from './queue'

export interface TableSpec {
  name: string
  keyPath: string
  indexes?: string[]
}

const DEXIE_V1 = 10

export function openDatabase(name: string, tables: TableSpec[]): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(name, DEXIE_V1)
    req.onupgradeneeded = () => {
      const db = req.result
      for (const t of tables) {
        if (db.objectStoreNames.contains(t.name)) continue
        const store = db.createObjectStore(t.name, { keyPath: t.keyPath })
        for (const index of t.indexes ?? []) store.createIndex(index, index)
      }
    }
    req.onsuccess = () => {
      const db = req.result
      db.onversionchange = () => db.close() // another tab upgrades: let it
      resolve(db)
    }
    req.onerror = () => reject(req.error)
    req.onblocked = () => reject(new Error(`IndexedDB ${name} is blocked`))
  })
}

/** One object store: each call is its own transaction, resolved once the transaction has completed. */
export class IdbTable<T> {
  private db: Promise<IDBDatabase> | null = null

  constructor(
    private readonly dbName: string,
    private readonly spec: TableSpec,
  ) {}

  private open(): Promise<IDBDatabase> {
    if (!this.db) {
      this.db = openDatabase(this.dbName, [this.spec])
      this.db.catch(() => (this.db = null)) // blocked or failed: try again next time
    }
    return this.db
  }

  private async run<R>(mode: IDBTransactionMode, body: (store: IDBObjectStore) => () => R): Promise<R> {
    const db = await this.open()
    return new Promise<R>((resolve, reject) => {
      const tx = db.transaction(this.spec.name, mode)
      const result = body(tx.objectStore(this.spec.name))
      tx.oncomplete = () => resolve(result())
      tx.onerror = () => reject(tx.error)
      tx.onabort = () => reject(tx.error ?? new Error('IndexedDB transaction aborted'))
    })
  }

  get(key: IDBValidKey): Promise<T | undefined> {
    return this.run('readonly', (s) => {
      const req = s.get(key)
      return () => req.result as T | undefined
    })
  }

  put(value: T): Promise<void> {
    return this.run('readwrite', (s) => {
      s.put(value)
      return () => undefined
    })
  }

  delete(key: IDBValidKey): Promise<void> {
    return this.run('readwrite', (s) => {
      s.delete(key)
      return () => undefined
    })
  }

  /** Every row, in the order of `index` (or of the key). */
  all(index?: string): Promise<T[]> {
    return this.run('readonly', (s) => {
      const rows: T[] = []
      const req = (index ? s.index(index) : s).openCursor()
      req.onsuccess = () => {
        const cursor = req.result
        if (!cursor) return
        rows.push(cursor.value as T)
        cursor.continue()
      }
      return () => rows
    })
  }
}

/** The offline queue in IndexedDB (database `gridcase`, table `queue`, as Dexie made it). */
export class IdbQueueStore implements QueueStore {
  private table: IdbTable<QueueItem>

  constructor(name = 'gridcase') {
    this.table = new IdbTable<QueueItem>(name, { name: 'queue', keyPath: 'id', indexes: ['state', 'createdAt'] })
  }

  all() {
    return this.table.all('createdAt')
  }

  put(item: QueueItem) {
    return this.table.put(item)
  }

  remove(id: string) {
    return this.table.delete(id)
  }
}
