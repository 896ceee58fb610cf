/**
 * The register behind the console's registry screens: residents (edit, status), households, the 台账 import,
 * grids as a tree. Lists are cursor pages (`more(next)` follows the server's link).
 */
import { apiUrl, http } from './http'
import type { Case } from './cases'
import type { GridLevel, Page, Tag } from './types'

export type ResidentStatus = 'active' | 'moved_out' | 'deceased'
export const RESIDENT_STATUSES: ResidentStatus[] = ['active', 'moved_out', 'deceased']

export interface RegistryResident {
  id: number
  name: string
  gender: 'male' | 'female' | 'unknown'
  birth_date: string | null
  age: number | null
  phone: string
  phone_revealed: boolean
  id_number: string
  id_number_revealed: boolean
  household: number
  household_label: string
  grid: number
  grid_name: string
  relation: string
  tags: string[]
  tag_names: string[]
  is_active: boolean
  status: ResidentStatus
  status_since: string | null
  note: string
}

export interface ResidentFilters {
  q?: string
  tag?: string
  status?: ResidentStatus | ''
  household?: number
  within?: number
}

export interface ResidentEdit {
  name?: string
  gender?: string
  birth_date?: string | null
  phone?: string
  relation?: string
  note?: string
  tags?: string[]
}

export interface StatusChange {
  status: ResidentStatus
  date?: string
  household?: number
  note?: string
}

export interface Household {
  id: number
  unit: number
  room: string
  grid: number
  label: string
  note: string
}

export interface TagOption extends Tag {
  id: number
  name_en?: string
}

export interface ImportReasonRow {
  code: string
  field?: string
  message: string
}

export interface ImportRow {
  row: number
  name: string
  status: 'created' | 'updated' | 'unchanged' | 'refused'
  changed?: string[]
  reasons?: ImportReasonRow[]
}

export interface ImportJob {
  id: number
  grid: number
  grid_code: string
  filename: string
  file_type: string
  status: 'pending' | 'running' | 'done' | 'failed'
  total_rows: number
  rows_done: number
  counts: Partial<Record<'created' | 'updated' | 'unchanged' | 'refused', number>>
  error: string
  created_at: string
  finished_at: string | null
  report: { total: number; rows: ImportRow[] } | null
}

export interface GridNode {
  id: number
  code: string
  name: string
  level: GridLevel
  parent: number | null
  path: string[]
  children_count: number
}

export interface CarePlanItem {
  kind: string
  every_n_days: number | null
  last_contact_on: string | null
  due_on: string | null
  overdue_days: number
}

export interface CarePlanDetail {
  id: number
  active: boolean
  started_on: string
  ended_on: string | null
  wellbeing: string
  escalated: boolean
  worker_name: string
  responsible_workers: { id: number; name: string }[]
  items: CarePlanItem[]
  next_due_on: string | null
}

export interface VisitRow {
  id: number
  visitor_name: string
  kind: string
  visited_at: string
  wellbeing: string
  findings: string
}

export const registryApi = {
  residents: (f: ResidentFilters = {}) => http.get<Page<RegistryResident>>('residents/', { ...f }),
  more: <T>(next: string) => http.get<Page<T>>(next),
  resident: (id: number) => http.get<RegistryResident>(`residents/${id}/`),
  updateResident: (id: number, body: ResidentEdit) => http.patch<RegistryResident>(`residents/${id}/`, body),
  createResident: (body: ResidentEdit & { household: number; id_number?: string }) =>
    http.post<RegistryResident>('residents/', body),
  changeStatus: (id: number, body: StatusChange) => http.post<RegistryResident>(`residents/${id}/status/`, body),
  tags: () => http.get<TagOption[]>('tags/'),

  households: (f: { q?: string; within?: number } = {}) => http.get<Page<Household>>('households/', { ...f }),
  household: (id: number) => http.get<Household>(`households/${id}/`),

  /** The resident's plan: the active one, else the ended one (lists show active plans unless asked). */
  async carePlan(resident: number): Promise<CarePlanDetail | null> {
    const active = await http.get<Page<CarePlanDetail>>('care-plans/', { resident })
    if (active.results.length) return active.results[0]
    const ended = await http.get<Page<CarePlanDetail>>('care-plans/', { resident, active: false })
    return ended.results[0] ?? null
  },
  visits: (resident: number) => http.get<Page<VisitRow>>('visits/', { resident }),
  cases: (resident: number) => http.get<Page<Case>>('cases/', { resident }),

  upload: (grid: number, file: File) => {
    const form = new FormData()
    form.append('grid', String(grid))
    form.append('file', file)
    return http.upload<ImportJob>('imports/', form)
  },
  job: (id: number) => http.get<ImportJob>(`imports/${id}/`),
  jobs: () => http.get<Page<ImportJob>>('imports/'),
  /** A download link (the session cookie authorises it). */
  reportUrl: (id: number, type: 'csv' | 'xlsx', rows: 'all' | 'refused' = 'all') =>
    apiUrl(`imports/${id}/report/`, { type, rows }),

  grids: (f: { within?: number; level?: GridLevel | GridLevel[]; q?: string; page_size?: number } = {}) =>
    http.get<Page<GridNode>>('grids/', { ...f }),
  children: (id: number) => http.get<Page<GridNode>>(`grids/${id}/children/`, { page_size: 200 }),
  createGrid: (body: { parent: number; name: string; code: string; level: GridLevel }) =>
    http.post<GridNode>('grids/', body),
}
