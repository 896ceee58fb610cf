import { apiUrl, http } from './http'
import type { Page } from './types'

/** Campaigns (专项排查, `campaigns/`) and their tasks (`campaign-tasks/`). */
export type QuestionType = 'yes_no' | 'choice' | 'number' | 'photo' | 'text'
export type AnswerValue = boolean | string | number

export interface Question {
  key: string
  text: string
  type: QuestionType
  required: boolean
  choices?: string[]
  /** The answer that reveals a problem (and opens a case): one of equals, in, gt, lt, present. */
  problem?: Record<string, unknown>
  category?: string
}

export type CampaignTarget = 'building' | 'household' | 'resident'
export type CampaignStatus = 'draft' | 'launching' | 'running' | 'failed' | 'closed'

export interface Campaign {
  id: number
  name: string
  description: string
  grid: number
  grid_name: string
  target: CampaignTarget
  tags: number[]
  checklist: Question[]
  category: number | null
  starts_on: string
  ends_on: string
  owner: number | null
  owner_name: string
  status: CampaignStatus
  finished: boolean
  total_tasks: number
  tasks_created: number
  launch_requested_at: string | null
  launch_started_at: string | null
  launch_finished_at: string | null
  launch_error: string
  created_at: string
}

export type CampaignCreate = Pick<Campaign, 'name' | 'grid' | 'target' | 'checklist' | 'starts_on' | 'ends_on'> &
  Partial<Pick<Campaign, 'description' | 'tags' | 'category'>>

export type TaskStatus = 'pending' | 'done' | 'problem'

export interface CampaignTask {
  id: number
  campaign: number
  campaign_name: string
  grid: number
  grid_name: string
  building: number | null
  building_name: string
  unit: number | null
  unit_name: string
  household: number | null
  room: string
  resident: number | null
  resident_name: string
  worker: number | null
  worker_name: string
  status: TaskStatus
  answers: Record<string, AnswerValue>
  answered_at: string | null
  case: number | null
  case_number: string
}

export interface ProgressCounts {
  pending: number
  done: number
  problem: number
  total: number
}

export interface ProgressRow extends ProgressCounts {
  grid: { id: number; code: string; name: string; level: string; has_children: boolean }
}

export interface Progress {
  grid: { id: number; code: string; name: string; level: string }
  totals: ProgressCounts
  children: ProgressRow[]
}

export interface AnswerBody {
  /** Made once when the answer is written: the offline queue resends it, the server stores it once. */
  client_uuid: string
  answers: Record<string, AnswerValue>
  answered_at?: string
}

export interface TaskQuery {
  campaign?: number
  status?: TaskStatus
  within?: number
  mine?: boolean
  page?: number
  page_size?: number
}

export function taskPlace(t: Pick<CampaignTask, 'building_name' | 'unit_name' | 'room' | 'resident_name'>): string {
  return [t.building_name, t.unit_name, t.room, t.resident_name].filter(Boolean).join(' ')
}

export const campaignsApi = {
  list: (q: { status?: CampaignStatus; within?: number } = {}) => http.get<Page<Campaign>>('campaigns/', q),
  get: (id: number) => http.get<Campaign>(`campaigns/${id}/`),
  create: (c: CampaignCreate) => http.post<Campaign>('campaigns/', c),
  launch: (id: number) => http.post<Campaign>(`campaigns/${id}/launch/`),
  close: (id: number) => http.post<Campaign>(`campaigns/${id}/close/`),
  progress: (id: number, grid?: number) => http.get<Progress>(`campaigns/${id}/progress/`, grid ? { grid } : {}),
  exportUrl: (id: number) => apiUrl(`campaigns/${id}/export/`),
  tasks: (q: TaskQuery) => http.get<Page<CampaignTask>>('campaign-tasks/', { page_size: 100, ...q }),
  more: (next: string) => http.get<Page<CampaignTask>>(next),
  task: (id: number) => http.get<CampaignTask>(`campaign-tasks/${id}/`),
  answer: (task: number, body: AnswerBody) => http.post<CampaignTask>(`campaign-tasks/${task}/answer/`, body),
  /** Answers with a photo (one multipart form; the photo is part of what the uuid stands for). */
  answerWithPhoto(task: number, body: AnswerBody, photoKey: string, photo: Blob) {
    const form = new FormData()
    form.append('client_uuid', body.client_uuid)
    form.append('answers', JSON.stringify(body.answers))
    if (body.answered_at) form.append('answered_at', body.answered_at)
    form.append(`photo_${photoKey}`, photo, `${photoKey}.jpg`)
    return http.upload<CampaignTask>(`campaign-tasks/${task}/answer/`, form)
  },
}

/** Points (积分): the caller's standing, rankings, the ledger. */
export interface Standing {
  month: string
  points: number
  rank: number | null
  of: number
  grid: { id: number; name: string; level: string } | null
}

export interface RankingRow {
  user: number
  name: string
  points: number
  rank: number
}

export interface Ranking {
  month: string
  grid: { id: number; name: string; level: string }
  results: RankingRow[]
}

export interface PointEntry {
  id: number
  user: number | null
  user_name: string
  resident: number | null
  resident_name: string
  rule: string
  rule_label: string
  points: number
  grid_name: string
  at: string
  note: string
}

export interface Reward {
  id: number
  community: number
  name: string
  description: string
  price: number
  stock: number
  active: boolean
}

export interface Credit {
  id: number
  resident: number
  resident_name: string
  room: string
  balance: number
  code: string
}

export interface Redemption {
  id: number
  reward: number
  reward_name: string
  resident: number
  resident_name: string
  staff_name: string
  points: number
  created_at: string
}

export interface PublicCredit {
  name: string
  balance: number
  total_earned: number
  entries: { rule: string; label: string; points: number; at: string }[]
}

export const pointsApi = {
  me: (month?: string) => http.get<Standing>('points/me/', month ? { month } : {}),
  ranking: (q: { grid?: number; month?: string }) => http.get<Ranking>('points/ranking/', q),
  rankingExportUrl: (q: { grid?: number; month?: string }) => apiUrl('points/ranking/export/', q),
  entries: (q: { mine?: boolean; month?: string; user?: number }) =>
    http.get<Page<PointEntry>>('points/', { page_size: 50, ...q }),
  rewards: () => http.get<Page<Reward>>('rewards/', { page_size: 100 }),
  createReward: (r: Omit<Reward, 'id' | 'active'>) => http.post<Reward>('rewards/', r),
  updateReward: (id: number, r: Partial<Reward>) => http.patch<Reward>(`rewards/${id}/`, r),
  credits: (q: { code?: string; q?: string }) => http.get<Page<Credit>>('credits/', { page_size: 20, ...q }),
  redeem: (body: { reward: number; resident?: number; code?: string; client_key: string }) =>
    http.post<Redemption>('redemptions/', body),
  redemptions: () => http.get<Page<Redemption>>('redemptions/', { page_size: 20 }),
  publicCredit: (code: string) => http.get<PublicCredit>(`credit/${encodeURIComponent(code)}/`),
}
