import { http } from './http'
import type { Page, Tag } from './types'

export type VisitKind = 'home' | 'phone' | 'video' | 'outreach'
export type Wellbeing = 'good' | 'attention' | 'urgent'
export const VISIT_KINDS: VisitKind[] = ['home', 'phone', 'video', 'outreach']
export const WELLBEINGS: Wellbeing[] = ['good', 'attention', 'urgent']
export const NEEDS = ['medical', 'meals', 'cleaning', 'companionship', 'repairs', 'benefits'] as const
export type Need = (typeof NEEDS)[number]

export interface DueVisit {
  resident: number
  resident_name: string
  household?: number
  household_label: string
  room?: string
  /** The backend sends ids here and the names in building_name / unit_name. */
  building: number | string | null
  building_name?: string
  unit: number | string | null
  unit_name?: string
  tags: Tag[]
  kind: VisitKind
  due_on: string
  overdue_days: number
  care_plan: number | null
}

export type StopState = 'overdue' | 'today' | 'done'

/** One resident on the round (`visits/round/`), with what the worker needs there without signal. */
export interface RoundStop {
  resident: number
  resident_name: string
  gender: string
  age: number | null
  household: number | null
  household_label: string
  room: string
  building: number | null
  building_name: string
  unit: number | null
  unit_name: string
  grid_name: string
  tags: Tag[]
  /** In clear when phone_revealed (the worker may call; the server audits it), else masked. */
  phone: string
  phone_revealed: boolean
  state: StopState
  overdue_days: number
  visited_today: boolean
  due: { kind: VisitKind; every_n_days: number; due_on: string; overdue_days: number; last_contact_on: string | null }[]
  care_plan: number
  escalated: boolean
  wellbeing: Wellbeing | ''
  plan_note: string
  last_visits: { id: number; kind: VisitKind; visited_at: string; wellbeing: Wellbeing; findings: string; needs: string[]; visitor_name: string }[]
  household_members: { id: number; name: string; relation: string; age: number | null }[]
  open_cases: { id: number; number: string; title: string; status: string; sla_state: string; created_at: string }[]
}

export interface Round {
  date: string
  total: number
  done: number
  results: RoundStop[]
}

export interface VisitCreate {
  client_uuid: string
  resident: number
  kind: VisitKind
  visited_at: string
  wellbeing: Wellbeing
  findings: string
  needs: Need[]
  pension_certified?: boolean
  open_case?: { category: number; title: string; description: string }
}

export interface Visit extends VisitCreate {
  id: number
  visitor_name?: string
  case?: number | null
}

export interface CarePlan {
  id: number
  resident: number
  [extra: string]: unknown
}

function unwrap<T>(data: Page<T> | T[]): T[] {
  return Array.isArray(data) ? data : data.results
}

export const visitsApi = {
  /** The whole round for the day (a round is bounded: follow every page). */
  async due(date: string): Promise<DueVisit[]> {
    const first = await http.get<Page<DueVisit> | DueVisit[]>('visits/due/', { date })
    const all = unwrap(first)
    let next = Array.isArray(first) ? null : first.next
    for (let guard = 0; next && guard < 50; guard++) {
      const page = await http.get<Page<DueVisit>>(next)
      all.push(...page.results)
      next = page.next
    }
    return all
  },
  /** The caller's round, one stop per resident (overdue, due today, then done today). */
  round: (date: string) => http.get<Round>('visits/round/', { date }),
  create: (v: VisitCreate) => http.post<Visit>('visits/', v),
  /** A visit with its photo, as one multipart form (open_case travels as a JSON string). */
  createWithPhoto(v: VisitCreate, photo: Blob, onProgress?: (f: number) => void) {
    const form = new FormData()
    for (const [k, value] of Object.entries(v)) {
      if (value === undefined || value === null) continue
      if (k === 'needs') for (const n of value as string[]) form.append('needs', n)
      else if (k === 'open_case') form.append('open_case', JSON.stringify(value))
      else form.append(k, String(value))
    }
    form.append('photo', photo, 'visit.jpg')
    return http.upload<Visit>('visits/', form, onProgress)
  },
  forResident: (resident: number) => http.get<Page<Visit>>('visits/', { resident }),
  carePlans: (resident: number) => http.get<Page<CarePlan>>('care-plans/', { resident }),
}
