import { apiUrl, http } from './http'
import type { Page } from './types'

/** Deliberation (议事): topics (`topics/`) and their consultations (`meetings/`). */
export type TopicStatus = 'open' | 'deliberating' | 'decided' | 'followed_through' | 'closed'
export type TopicOrigin = 'case' | 'proposal' | 'staff'
export type TopicLevel = 'community' | 'grid' | 'building'
export type TopicMove = 'schedule' | 'decide' | 'add_action' | 'close'
export type PlaceKind = 'hall' | 'building_door' | 'home' | 'other'
export type Stance = 'for' | 'against' | 'neutral' | 'suggestion'

export interface TopicActionRow {
  id: number
  title: string
  description: string
  case: number | null
  case_number: string | null
  case_status: string | null
  case_assignee: string | null
}

export interface MeetingRow {
  id: number
  starts_at: string
  place: string
  place_kind: PlaceKind
  status: 'scheduled' | 'closed'
}

export interface Topic {
  id: number
  title: string
  description: string
  origin: TopicOrigin
  case: number | null
  case_number: string | null
  proposer_name: string
  level: TopicLevel
  grid: number
  grid_name: string
  building: number | null
  building_name: string | null
  residents_scope: string
  status: TopicStatus
  decision: string
  decision_method: '' | 'vote' | 'consensus'
  decided_in: number | null
  decided_at: string | null
  followed_through_at: string | null
  closed_at: string | null
  close_note: string
  notice_id: number | null
  raised_by_name: string | null
  created_at: string
  updated_at: string
  version: number
  actions_total: number
  actions_open: number
  allowed_moves: TopicMove[]
  /** On one topic; null in lists. */
  actions: TopicActionRow[] | null
  consultations: MeetingRow[] | null
}

export interface TopicCreate {
  title: string
  description?: string
  origin?: TopicOrigin
  case?: number | null
  proposer_name?: string
  level: TopicLevel
  grid?: number | null
  building?: number | null
  residents_scope?: string
}

export interface Attendee {
  id: number
  kind: 'resident' | 'staff' | 'guest'
  resident: number | null
  user: number | null
  name: string
  place: string
  invited: boolean
  signed_in_at: string | null
}

export interface Meeting {
  id: number
  topic: number
  topic_title: string
  topic_status: TopicStatus
  starts_at: string
  place_kind: PlaceKind
  place: string
  agenda: string
  status: 'scheduled' | 'closed'
  method: '' | 'vote' | 'consensus'
  consensus: string
  closed_at: string | null
  version: number
  invited: number
  signed_in: number
  attendees: Attendee[] | null
  positions: { id: number; attendee: number | null; speaker: string; stance: Stance; text: string; created_at: string }[] | null
  options: { id: number; label: string; votes: number }[] | null
}

export interface MeetingCreate {
  topic: number
  starts_at: string
  place_kind?: PlaceKind
  place: string
  agenda?: string
  residents?: number[]
  users?: number[]
}

export interface SignIn {
  attendee?: number
  resident?: number
  name?: string
  /** Made once per tap on the phone: a resend from the offline queue signs in once. */
  sign_in_key: string
  /** When it was recorded on the phone (it may be sent later). */
  signed_at?: string
}

export interface TopicStatsRow {
  grid: number
  grid_name: string
  grid_level: string
  raised: number
  decided: number
  followed_through: number
  open: number
}

export interface TopicStats {
  grids: TopicStatsRow[]
  total: { raised: number; decided: number; followed_through: number; open: number }
}

/** The `deliberation` field of a case (on one case). */
export interface CaseDeliberation {
  raised: { id: number; title: string; status: TopicStatus }[]
  action_of: { action: number; title: string; topic: number; topic_title: string; topic_status: TopicStatus } | null
}

export interface TopicQuery {
  status?: string
  case?: number
  within?: number
  page_size?: number
}

export const deliberationApi = {
  topics: (q: TopicQuery = {}) => http.get<Page<Topic>>('topics/', { ...q }),
  more: <T>(next: string) => http.get<Page<T>>(next),
  topic: (id: number) => http.get<Topic>(`topics/${id}/`),
  raise: (body: TopicCreate) => http.post<Topic>('topics/', body),
  decide: (id: number, version: number, decision: string, consultation?: number) =>
    http.post<Topic>(`topics/${id}/decide/`, { version, decision, ...(consultation ? { consultation } : {}) }),
  addAction: (id: number, body: { title: string; category: number; description?: string; assignee?: number | null; client_key?: string }) =>
    http.post<Topic>(`topics/${id}/actions/`, body),
  close: (id: number, version: number, note = '') => http.post<Topic>(`topics/${id}/close/`, { version, note }),
  publish: (id: number) => http.post<Topic>(`topics/${id}/publish/`, { audience: 'residents' }),
  stats: (within?: number) => http.get<TopicStats>('topics/stats/', within ? { within } : {}),
  meetings: (q: { topic?: number; status?: string; page_size?: number } = {}) => http.get<Page<Meeting>>('meetings/', { ...q }),
  meeting: (id: number) => http.get<Meeting>(`meetings/${id}/`),
  schedule: (body: MeetingCreate) => http.post<Meeting>('meetings/', body),
  signIn: (id: number, body: SignIn) => http.post<Attendee>(`meetings/${id}/sign_in/`, body),
  addPosition: (id: number, body: { attendee?: number; speaker?: string; stance: Stance; text: string }) =>
    http.post<Meeting>(`meetings/${id}/positions/`, body),
  addOption: (id: number, label: string) => http.post<Meeting>(`meetings/${id}/options/`, { label }),
  vote: (id: number, attendee: number, option: number) => http.post<Meeting>(`meetings/${id}/vote/`, { attendee, option }),
  closeMeeting: (id: number, version: number, method: 'vote' | 'consensus', consensus = '') =>
    http.post<Meeting>(`meetings/${id}/close/`, { version, method, consensus }),
  minutesUrl: (id: number) => apiUrl(`meetings/${id}/minutes/`),
  /** Pickers of the raise form: grids at community and grid level, buildings, residents to invite. */
  grids: () => http.get<Page<{ id: number; name: string; level: string }>>('grids/', { level: ['community', 'grid'], page_size: 200 }),
  buildings: (within?: number) => http.get<Page<{ id: number; name: string; grid: number; grid_name: string }>>('buildings/', { within, page_size: 200 }),
  /** Residents a consultation of the topic may invite (the building's, or the grid's): name and place only. */
  residents: (topic: number, q = '') => http.get<{ id: number; name: string; place: string }[]>(`topics/${topic}/residents/`, { q: q || undefined }),
}
