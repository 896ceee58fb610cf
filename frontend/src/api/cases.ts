import { http } from './http'
import type { GridLevel, Page } from './types'
import { fromShanghaiLocalInput } from '@/utils/time'

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
  /** The hop ledger: on one case (detail, action answers); null in lists. */
  hops?: CaseHop[] | null
  /** The case this one was merged into (status `merged`). */
  merged_into?: number | null
  /** Reports merged into this case that the caller may see: on one case; null in lists. */
  duplicates?: CaseDuplicate[] | null
}

/** A report merged into a case as its duplicate. */
export interface CaseDuplicate {
  id: number
  number: string
  title: string
  created_at: string
  source: string
}

/** One hop of a case's journey: a grid (by level) or a department held it from `started_at` to `ended_at`. */
export interface CaseHop {
  id: number
  kind: 'grid' | 'department'
  grid: number | null
  grid_name: string | null
  grid_level: string
  department: number | null
  department_name: string | null
  start_action: string
  end_action: string
  started_at: string
  ended_at: string | null
  open: boolean
  held_seconds: number
}

/** A person the assign picker offers: exactly those the server's `assign` accepts for the case. */
export interface Assignee {
  id: number
  username: string
  display_name: string
  roles: { role: string; grid: number; grid_name: string }[]
  /** Works the case's own (micro-)grid: listed first. */
  own_worker: boolean
  open_cases: number
  due_visits: number
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
  sla_state?: string
  awaiting_report_in?: 'true' | 'false'
}

/** One of the secretary's queues: its count and the case-list filter that lists exactly those cases. */
export interface CaseQueue {
  key: 'new' | 'sla' | 'verification' | 'report_in'
  count: number
  filter: Record<string, string>
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
  /** A dedicated grid (school, hospital, market) of the grid's community: the case is shared with its workers. */
  dedicated_grid?: number
  location?: { lat: number; lng: number }
  source?: string
  client_key: string
}

/** A grid a report form offers beyond the caller's own (GET cases/report-grids/). */
export interface ReportGrid {
  id: number
  code: string
  name: string
  level: GridLevel
  kind: string
  parent_id: number | null
}

/**
 * The input widgets an action form can hold, and what each adds to the request body (besides `version`).
 * `reason`, `note` and `comment` are free text (required unless the field says `optional`).
 */
export interface FieldPayloads {
  reason: { reason: string }
  note: { note: string }
  comment: { comment: string }
  publicReply: { public_reply?: string }
  assignee: { assignee: number }
  departments: { departments: number[] }
  reportBy: { report_by: string }
  hours: { hours: number }
  rating: { rating: Rating }
  calledAt: { called_at: string }
  approve: { approve: boolean }
  scoreDepartment: { department: number; score: number }
  into: { into: number }
}
export type FieldKind = keyof FieldPayloads
export interface ActionField {
  kind: FieldKind
  /** Text fields only: may be left empty (sent as ''). */
  optional?: boolean
}

/** What the values of an open action form hold (one slot per widget). */
export interface FormValues {
  reason: string
  note: string
  comment: string
  publicReply: string
  assignee: string
  departments: string[]
  reportBy: string
  hours: number
  rating: Rating
  calledAt: string
  approve: 'yes' | 'no'
  department: string
  score: number
  into: string
}

export interface ActionForm {
  /** Button style: the usual next step, a step back, or anything else. */
  tone: 'primary' | 'danger' | 'default'
  /** The inputs, in order; none: the form only asks to confirm. */
  fields: readonly ActionField[]
}

/**
 * One entry per case action the console offers (the server's table is in gridcase/cases/state.py): the
 * form CaseActions.vue shows, and so the body the action is sent with. Order = order of the buttons.
 * Adding an action: an entry here and its label in locales (`case.actions.<name>`).
 */
export const ACTION_FORMS = {
  accept: { tone: 'primary', fields: [] },
  reject: { tone: 'danger', fields: [{ kind: 'reason' }] },
  assign: { tone: 'default', fields: [{ kind: 'assignee' }] },
  start: { tone: 'primary', fields: [] },
  resolve: { tone: 'primary', fields: [{ kind: 'note' }, { kind: 'publicReply', optional: true }] },
  verify: { tone: 'primary', fields: [] },
  reopen: { tone: 'danger', fields: [{ kind: 'reason' }] },
  close: { tone: 'primary', fields: [] },
  escalate: { tone: 'default', fields: [{ kind: 'reason' }] },
  whistle: { tone: 'default', fields: [{ kind: 'departments' }, { kind: 'reportBy' }, { kind: 'note', optional: true }] },
  supervise: { tone: 'default', fields: [{ kind: 'comment' }] },
  report_in: { tone: 'primary', fields: [] },
  reply: { tone: 'primary', fields: [{ kind: 'note' }] },
  rate: { tone: 'default', fields: [{ kind: 'rating' }] },
  // 回访: the resident's answer on a call-back, with the call's time (staff cannot rate on their own).
  callback: { tone: 'default', fields: [{ kind: 'rating' }, { kind: 'calledAt' }, { kind: 'comment' }] },
  request_extension: { tone: 'default', fields: [{ kind: 'hours' }, { kind: 'reason' }] },
  decide_extension: { tone: 'default', fields: [{ kind: 'approve' }] },
  score_department: { tone: 'default', fields: [{ kind: 'scoreDepartment' }] },
  merge: { tone: 'default', fields: [{ kind: 'into' }] },
} as const satisfies Record<string, ActionForm>

export type CaseAction = keyof typeof ACTION_FORMS
export const CASE_ACTIONS = Object.keys(ACTION_FORMS) as CaseAction[]

type UnionToIntersection<U> = (U extends unknown ? (x: U) => void : never) extends (x: infer I) => void ? I : never
type PayloadOf<F extends readonly ActionField[]> = [F[number]] extends [never]
  ? Record<string, never>
  : UnionToIntersection<FieldPayloads[F[number]['kind']]>
/** The body of each action besides `version`, derived from its form. */
export type ActionPayloads = { [A in CaseAction]: PayloadOf<(typeof ACTION_FORMS)[A]['fields']> }

const positive = (v: string) => (Number(v) > 0 ? Number(v) : null)

/** What one widget adds to the body, or null when it is required and missing. */
const FIELD_VALUES: { [K in FieldKind]: (v: FormValues, f: ActionField) => FieldPayloads[K] | null } = {
  reason: (v, f) => (v.reason.trim() || f.optional ? { reason: v.reason.trim() } : null),
  note: (v, f) => (v.note.trim() || f.optional ? { note: v.note.trim() } : null),
  comment: (v, f) => (v.comment.trim() || f.optional ? { comment: v.comment.trim() } : null),
  publicReply: (v) => (v.publicReply.trim() ? { public_reply: v.publicReply.trim() } : {}),
  assignee: (v) => (positive(v.assignee) ? { assignee: Number(v.assignee) } : null),
  departments: (v) => (v.departments.length ? { departments: v.departments.map(Number) } : null),
  reportBy: (v) => (v.reportBy ? { report_by: fromShanghaiLocalInput(v.reportBy) } : null),
  hours: (v) => (v.hours > 0 ? { hours: v.hours } : null),
  rating: (v) => ({ rating: v.rating }),
  calledAt: (v) => (v.calledAt ? { called_at: fromShanghaiLocalInput(v.calledAt) } : null),
  approve: (v) => ({ approve: v.approve === 'yes' }),
  scoreDepartment: (v) => (positive(v.department) && v.score >= 1 ? { department: Number(v.department), score: v.score } : null),
  into: (v) => (positive(v.into) ? { into: Number(v.into) } : null),
}

/** The body of `action` from the form's values; null when a required input is missing. */
export function actionPayload<A extends CaseAction>(action: A, values: FormValues): ActionPayloads[A] | null {
  const body: Record<string, unknown> = {}
  for (const field of ACTION_FORMS[action].fields as readonly ActionField[]) {
    const part = FIELD_VALUES[field.kind](values, field)
    if (part === null) return null
    Object.assign(body, part)
  }
  return body as ActionPayloads[A]
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
  /** The secretary's queues (new, red/yellow SLA, waiting for verification, whistled not reported in). */
  queues: () => http.get<CaseQueue[]>('cases/queues/'),
  get: (id: number) => http.get<Case>(`cases/${id}/`),
  /** The assign picker's people for this case, searchable by name or pinyin initials (`q`). */
  assignees: (id: number, q = '') => http.get<Page<Assignee> & { count: number }>(`cases/${id}/assignees/`, { q: q || undefined }),
  events: (id: number) => http.get<Page<CaseEvent> | CaseEvent[]>(`cases/${id}/events/`),
  eventsMore: (next: string) => http.get<Page<CaseEvent>>(next),
  create: (data: CaseCreate) => http.post<Case>('cases/', data),
  /** Dedicated grids the caller may name, and the grids they may report at through a dedicated grid they hold. */
  reportGrids: () => http.get<{ dedicated: ReportGrid[]; places: ReportGrid[] }>('cases/report-grids/'),
  act: <A extends CaseAction>(id: number, action: A, version: number, payload: ActionPayloads[A]) =>
    http.post<Case>(`cases/${id}/${action}/`, { version, ...(payload as Record<string, unknown>) }),
  async attachments(id: number): Promise<Attachment[]> {
    const data = await http.get<Page<Attachment> | Attachment[]>(`cases/${id}/attachments/`)
    return Array.isArray(data) ? data : data.results
  },
  /** `clientKey`: a uuid for this upload; sent again (a retry), the server stores nothing new and answers with
   *  the photo it stored the first time. */
  upload(id: number, file: Blob, kind: 'before' | 'after' = 'before', filename = 'photo.jpg', onProgress?: (f: number) => void,
    clientKey?: string) {
    const form = new FormData()
    form.append('file', file, filename)
    form.append('kind', kind)
    if (clientKey) form.append('client_key', clientKey)
    return http.upload<Attachment>(`cases/${id}/attachments/`, form, onProgress)
  },
}
