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
  create: (v: VisitCreate) => http.post<Visit>('visits/', v),
  forResident: (resident: number) => http.get<Page<Visit>>('visits/', { resident }),
  carePlans: (resident: number) => http.get<Page<CarePlan>>('care-plans/', { resident }),
}
