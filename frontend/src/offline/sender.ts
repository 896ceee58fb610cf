import { casesApi, type CaseCreate } from '@/api/cases'
import { visitsApi, type VisitCreate } from '@/api/visits'
import type { QueueItem, Sender } from './queue'

export interface AttachmentPayload {
  case: number
  number: string
}

/** Sends queued items with the same client uuid they were created with. */
export const apiSender: Sender = async (item: QueueItem) => {
  switch (item.kind) {
    case 'visit':
      await visitsApi.create(item.payload as VisitCreate)
      return null
    case 'case': {
      const created = await casesApi.create(item.payload as CaseCreate)
      if (!item.photo) return null
      // The case is stored; the photo becomes its own queue item so a failed upload never re-creates the case.
      const followUp: QueueItem = {
        ...item,
        kind: 'attachment',
        payload: { case: created.id, number: created.number } satisfies AttachmentPayload,
      }
      try {
        await casesApi.upload(created.id, item.photo, 'before', item.photoName)
        return null
      } catch {
        return followUp
      }
    }
    case 'attachment': {
      const p = item.payload as AttachmentPayload
      if (item.photo) await casesApi.upload(p.case, item.photo, 'before', item.photoName)
      return null
    }
  }
}
