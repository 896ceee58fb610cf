/** The light account of a building or unit lead (楼栋长/单元长) or a volunteer: their building's notices and
 *  neighbours (names and rooms only), neighbour check-ins, volunteer activities. */
import { http } from './http'
import type { Page } from './types'

export type VolunteerRole = 'building_lead' | 'unit_lead' | 'volunteer' | 'party_member'
export type CheckInWellbeing = 'good' | 'attention' | 'urgent'

export interface LeadMe {
  display_name: string
  roles: { role: VolunteerRole; place: string; grid_name: string }[]
  is_lead: boolean
  report_token: string
  board_token: string
  service_hours: string
}

export interface LeadNotice {
  id: number
  title: string
  body: string
  grid_name: string
  published_at: string
  expires_at: string | null
  read_at: string | null
}

export interface Neighbour {
  id: number
  name: string
  room: string
  unit: string
  building: string
}

export interface CheckInCreate {
  client_uuid: string
  resident: number
  wellbeing: CheckInWellbeing
  note: string
  checked_at: string
}

export interface CheckIn {
  id: number
  resident: number
  resident_name: string
  room: string
  wellbeing: CheckInWellbeing
  note: string
  checked_at: string
  lead_name: string
  confirmed_at: string | null
  confirmed_by_name: string
}

export interface LeadActivity {
  id: number
  grid_name: string
  title: string
  description: string
  place: string
  starts_at: string
  ends_at: string
  capacity: number
  hours: string
  signed_up: number
  mine: boolean
}

export const leadApi = {
  me: () => http.get<LeadMe>('lead/me/'),
  notices: () => http.get<Page<LeadNotice>>('lead/notices/'),
  read: (id: number) => http.post<LeadNotice>(`lead/notices/${id}/read/`),
  neighbours: (q = '') => http.get<Page<Neighbour>>('lead/neighbours/', { q: q || undefined }),
  checkIns: () => http.get<Page<CheckIn>>('lead/check-ins/'),
  checkIn: (body: CheckInCreate) => http.post<CheckIn>('lead/check-ins/', body),
  activities: () => http.get<Page<LeadActivity>>('lead/activities/'),
  signUp: (id: number) => http.post<unknown>(`lead/activities/${id}/sign-up/`),
}

export const checkInsApi = {
  list: (confirmed?: boolean) => http.get<Page<CheckIn>>('check-ins/', { confirmed }),
  confirm: (id: number) => http.post<CheckIn>(`check-ins/${id}/confirm/`),
}

export interface Volunteer {
  id: number
  role: VolunteerRole
  display_name: string
  phone: string
  building: number | null
  building_name: string
  unit: number | null
  unit_name: string
  grid: number
  grid_name: string
  is_active: boolean
  service_hours: string | null
}

export interface VolunteerCreate {
  role: VolunteerRole
  building?: number | null
  unit?: number | null
  grid?: number | null
  phone: string
  display_name: string
  password: string
}

export interface Activity {
  id: number
  grid: number
  grid_name: string
  title: string
  description: string
  place: string
  starts_at: string
  ends_at: string
  capacity: number
  hours: string
  signed_up: number
}

export interface SignUp {
  id: number
  volunteer: number
  display_name: string
  role: VolunteerRole
  attended: boolean | null
  hours: string | null
}

/** Staff side: register leads and volunteers, activities and their attendance. */
export const volunteersApi = {
  list: () => http.get<Page<Volunteer>>('volunteers/', { page_size: 100 }),
  register: (body: VolunteerCreate) => http.post<Volunteer>('volunteers/', body),
  setActive: (id: number, active: boolean) => http.patch<Volunteer>(`volunteers/${id}/`, { is_active: active }),
  buildings: (q?: string) => http.get<Page<{ id: number; name: string }>>('buildings/', { q: q || undefined, page_size: 50 }),
  units: (building: number) => http.get<Page<{ id: number; name: string }>>('units/', { building, page_size: 100 }),
  activities: () => http.get<Page<Activity>>('activities/', { page_size: 50 }),
  createActivity: (body: Partial<Activity>) => http.post<Activity>('activities/', body),
  signUps: (id: number) => http.get<SignUp[]>(`activities/${id}/sign-ups/`),
  attendance: (id: number, signUp: number, attended: boolean) =>
    http.post<SignUp>(`activities/${id}/attendance/`, { sign_up: signUp, attended }),
}
