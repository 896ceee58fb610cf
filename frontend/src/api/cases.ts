import { http } from './http'
import type { Page } from './types'

export const CASE_STATUSES = [
  'reported',
  'accepted',
  'assigned',
  'in_progress',
  'resolved',
  'verified',
  'closed',
  'rejected',
  'merged',
] as const
export type CaseStatus = (typeof CASE_STATUSES)[number]
/** Still being worked on (the `status` filter takes a comma-separated list). */
export const OPEN_STATUSES = 'reported,accepted,assigned,in_progress,resolved,verified'
export const FINISHED_STATUSES = 'closed,rejected,merged'
export type SlaState = 'ok' | 'yellow' | 'red'
export type Rating = 'satisfied' | 'basically' | 'dissatisfied'

export const CASE_ACTIONS = [
  'accept',
  'reject',
  'assign',
  'start',
  'resolve',
  'verify',
  'reopen',
  'close',
  'escalate',
  'whistle',
  'report_in',
  'reply',
  'rate',
  'request_extension',
  'decide_extension',
  'score_department',
  'merge',
] as const
export type CaseAction = (typeof CASE_ACTIONS)[number]

export interface Case {
  id: number
  number: string
  title: string
  description: string
  category: number
  category_name: string
  grid: number
  grid_name: string
  owner_grid: number
  owner_grid_name: string
  scope: string | null
  priority: string
  source: string
  status: CaseStatus
  assignee: number | null
  assignee_name: string | null
  departments: Array<number | CaseDepartment>
  location: { lat: number; lng: number } | null
  version: number
  deadlines: { accept_by: string | null; handle_by: string | null; verify_by: string | null }
  sla_state: SlaState
  allowed_actions: string[]
  created_at: string
  updated_at: string
}

export interface CaseDepartment {
  id: number
  name: string
  report_by?: string | null
  reported_in_at?: string | null
  replied_at?: string | null
  reply?: string
  score?: number | null
}

export interface CaseEvent {
  id: number
  action?: string
  kind?: string
  actor?: number | null
  actor_name?: string
  from_status?: string | null
  to_status?: string | null
  comment?: string
  note?: string
  created_at: string
  [extra: string]: unknown
}

export interface CaseFilters {
  status?: string
  assignee?: 'me' | number
  within?: number
  overdue?: boolean
  q?: string
  category?: number
  priority?: string
  source?: string
}

export interface CaseCreate {
  category: number
  grid: number
  title: string
  description: string
  scope?: string
  priority?: string
  building?: number
  unit?: number
  household?: number
  resident?: number
  location?: { lat: number; lng: number }
  source?: string
  client_key: string
}

/** Extra input each action takes besides `version`. */
export interface ActionPayloads {
  accept: Record<string, never>
  reject: { reason: string }
  assign: { assignee: number }
  start: Record<string, never>
  resolve: { note: string }
  verify: Record<string, never>
  reopen: { reason: string }
  close: Record<string, never>
  escalate: { reason: string }
  whistle: { departments: number[]; report_by: string; note: string }
  report_in: Record<string, never>
  reply: { note: string }
  rate: { rating: Rating }
  request_extension: { hours: number; reason: string }
  decide_extension: { approve: boolean }
  score_department: { department: number; score: number }
  merge: { into: number }
}

export interface Attachment {
  id: number
  kind: 'before' | 'after'
  url?: string
  thumbnail_url?: string | null
  original_name?: string
  content_type?: string
  file?: string
  [extra: string]: unknown
}

export const casesApi = {
  list: (f: CaseFilters = {}) => http.get<Page<Case>>('cases/', { ...f, overdue: f.overdue ? 'true' : undefined }),
  more: (next: string) => http.get<Page<Case>>(next),
  get: (id: number) => http.get<Case>(`cases/${id}/`),
  events: (id: number) => http.get<Page<CaseEvent> | CaseEvent[]>(`cases/${id}/events/`),
  eventsMore: (next: string) => http.get<Page<CaseEvent>>(next),
  create: (data: CaseCreate) => http.post<Case>('cases/', data),
  act: <A extends CaseAction>(id: number, action: A, version: number, payload: ActionPayloads[A]) =>
    http.post<Case>(`cases/${id}/${action}/`, { version, ...payload }),
  async attachments(id: number): Promise<Attachment[]> {
    const data = await http.get<Page<Attachment> | Attachment[]>(`cases/${id}/attachments/`)
    return Array.isArray(data) ? data : data.results
  },
  upload(id: number, file: Blob, kind: 'before' | 'after' = 'before', filename = 'photo.jpg') {
    const form = new FormData()
    form.append('file', file, filename)
    form.append('kind', kind)
    return http.upload<Attachment>(`cases/${id}/attachments/`, form)
  },
}
