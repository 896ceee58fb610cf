import Dexie, { type Table } from 'dexie'
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
