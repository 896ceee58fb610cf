/**
 * Acknowledgements of emergency broadcasts tapped with no signal: kept in localStorage (small, one per notice) and
 * sent when the network returns, each with the uuid and the time it was tapped. The server records one per worker
 * and answers a replay with `replayed: true`, so sending twice is harmless.
 */
import { noticesApi, type AckBody } from '@/api/notices'
import { ApiError } from '@/api/http'
import { isOfflineError } from '@/utils/errors'
import { uuid } from '@/utils/uuid'

const KEY = 'gridcase.pendingAcks'

export interface PendingAck extends AckBody {
  notice: number
}

function load(): PendingAck[] {
  try {
    return JSON.parse(localStorage.getItem(KEY) || '[]') as PendingAck[]
  } catch {
    return []
  }
}

function save(items: PendingAck[]) {
  try {
    localStorage.setItem(KEY, JSON.stringify(items))
  } catch {
    /* storage full or blocked: the ack is sent while the page stays open */
  }
}

export function pendingAcks(): PendingAck[] {
  return load()
}

/** Acknowledge now, or keep it for later. 'sent' | 'queued'; throws the server's refusal (ApiError 4xx). */
export async function acknowledge(notice: number, online = navigator.onLine): Promise<'sent' | 'queued'> {
  const existing = load().find((a) => a.notice === notice)
  const item: PendingAck = existing ?? { notice, client_uuid: uuid(), acked_at: new Date().toISOString() }
  if (!existing) save([...load(), item])
  if (!online) return 'queued'
  try {
    await noticesApi.ack(notice, { client_uuid: item.client_uuid, acked_at: item.acked_at })
  } catch (e) {
    if (isOfflineError(e)) return 'queued'
    save(load().filter((a) => a.notice !== notice))
    throw e
  }
  save(load().filter((a) => a.notice !== notice))
  return 'sent'
}

/** Send every kept acknowledgement (the network came back); returns how many the server now has. */
export async function flushAcks(): Promise<number> {
  let done = 0
  for (const item of load()) {
    try {
      await noticesApi.ack(item.notice, { client_uuid: item.client_uuid, acked_at: item.acked_at })
      done++
    } catch (e) {
      if (isOfflineError(e)) break
      if (!(e instanceof ApiError)) break
      // Refused (the notice was withdrawn, or is not ours): nothing to keep.
    }
    save(load().filter((a) => a.notice !== item.notice))
  }
  return done
}
