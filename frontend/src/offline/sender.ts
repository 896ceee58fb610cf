import { campaignsApi, type AnswerBody } from '@/api/campaigns'
import { casesApi, type CaseCreate } from '@/api/cases'
import { deliberationApi, type SignIn } from '@/api/deliberation'
import { patrolApi, type PatrolEntryCreate } from '@/api/patrol'
import { visitsApi, type VisitCreate } from '@/api/visits'
import type { QueueItem, Sender } from './queue'

export interface AttachmentPayload {
  case: number
  number: string
}

/** A campaign task's answers (专项排查), with the photo question the queued photo answers. */
export interface CampaignAnswerPayload extends AnswerBody {
  task: number
  photoKey?: string
}

export interface SignInPayload extends SignIn {
  meeting: number
}

type ProgressListener = (id: string, fraction: number) => void
let listener: ProgressListener | null = null
/** The UI listens here for upload progress of queued photos (by queue item id). */
export function onUploadProgress(fn: ProgressListener | null) {
  listener = fn
}
const progress = (id: string) => (f: number) => listener?.(id, f)

/** Sends queued items with the same client uuid they were created with. */
export const apiSender: Sender = async (item: QueueItem) => {
  switch (item.kind) {
    case 'visit': {
      const v = item.payload as VisitCreate
      // A visit and its photo are one request (the photo is part of what the uuid stands for).
      if (item.photo) await visitsApi.createWithPhoto(v, item.photo, progress(item.id))
      else await visitsApi.create(v)
      return null
    }
    case 'case': {
      const created = await casesApi.create(item.payload as CaseCreate)
      if (!item.photo) return null
      // The case is stored; its photo becomes its own queue item, so a failed upload never re-creates the case.
      return {
        ...item,
        kind: 'attachment',
        label: `${created.number} · ${item.label}`,
        payload: { case: created.id, number: created.number } satisfies AttachmentPayload,
      }
    }
    case 'patrol': {
      // A patrol log entry and its photo are one request, like a visit.
      const e = item.payload as PatrolEntryCreate
      if (item.photo) await patrolApi.createWithPhoto(e, item.photo)
      else await patrolApi.create(e)
      return null
    }
    case 'signin': {
      // A sign-in at a consultation (议事签到), resent with the same sign_in_key: the server signs in once.
      const { meeting, ...body } = item.payload as SignInPayload
      await deliberationApi.signIn(meeting, body)
      return null
    }
    case 'campaign': {
      // A task's answers and their photo are one request, resent with the same client_uuid: stored once.
      const { task, photoKey, ...body } = item.payload as CampaignAnswerPayload
      if (item.photo && photoKey) await campaignsApi.answerWithPhoto(task, body, photoKey, item.photo)
      else await campaignsApi.answer(task, body)
      return null
    }
    case 'attachment': {
      const p = item.payload as AttachmentPayload
      // The queue item's uuid is the upload's key: a retry after a lost answer never stores the photo twice.
      if (item.photo) await casesApi.upload(p.case, item.photo, 'before', item.photoName ?? 'photo.jpg', progress(item.id), item.id)
      return null
    }
  }
}
