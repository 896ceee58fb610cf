/**
 * Moving places between grids and handing a worker's work over (issue 9). The rules are on the server
 * (gridcase.grids.moves / handover); a refusal comes back as ApiError with the rule as `code`
 * (unit_outside_building_grid, building_split, unit_orphaned, receiver_outside_grid, …).
 */
import { http } from './http'
import type { GridLevel, Page } from './types'

export type CasesChoice = 'follow' | 'stay'
export type PlaceKind = 'units' | 'buildings' | 'grids'

export interface GridOption {
  id: number
  code: string
  name: string
  level: GridLevel
  parent: number | null
  path: string[]
}

export interface BuildingOption {
  id: number
  code: string
  name: string
  grid: number
  grid_name: string
}

export interface UnitOption {
  id: number
  building: number
  building_name: string
  name: string
  micro_grid: number
}

export interface Load {
  households: number
  residents: number
  key_population: number
  care_plans: number
  contacts_due_per_week: number
  open_cases: number
}

export interface GridLoad {
  id: number
  code: string
  name: string
  level: GridLevel
  workers: string[]
  before: Load
  after: Load
}

export interface MoveSummary {
  kind: 'unit' | 'building' | 'grid'
  id: number
  name: string
  from: { id: number; code: string; name: string; level: GridLevel }
  to: { id: number; code: string; name: string; level: GridLevel }
  cases: CasesChoice
  preview: boolean
  moved: Record<string, number>
  grids: GridLoad[]
}

export interface PlannedMove {
  kind: 'unit' | 'building' | 'grid'
  id: number
  to: number
  /** For the console's list: what moves where. */
  label?: string
}

export interface RedistrictSummary {
  preview: boolean
  cases: CasesChoice
  moves: Pick<MoveSummary, 'kind' | 'id' | 'name' | 'from' | 'to' | 'moved'>[]
  grids: GridLoad[]
}

export interface MoveRequest {
  to: number
  cases: CasesChoice
  preview: boolean
  units?: Record<number, number>
}

export interface Candidate {
  id: number
  name: string
  username: string
  grids: string[]
  roles: string[]
  open_cases: number
  care_plans: number
  load: number
}

export interface HandoverWork {
  cases: number
  care_plans: number
  case_numbers: string[]
  candidates: Candidate[]
}

export interface HandoverSummary {
  worker: { id: number; name: string }
  preview: boolean
  cases: number
  care_plans: number
  receivers: { id: number; name: string; cases: number; care_plans: number; case_numbers: string[] }[]
  roles_ended: string[]
}

export interface WorkerOption {
  id: number
  username: string
  display_name: string
  roles: { grid: number; grid_name: string; role: string }[]
}

function all<T>(data: Page<T> | T[]): T[] {
  return Array.isArray(data) ? data : data.results
}

/** Every page of a list (pickers need the whole of the caller's area; at most `limit` pages). */
async function everyPage<T>(path: string, query: Record<string, string | number | undefined>, limit = 20): Promise<T[]> {
  const out: T[] = []
  let page = await http.get<Page<T>>(path, { ...query, page_size: 100 })
  out.push(...all(page))
  for (let i = 1; page.next && i < limit; i++) {
    page = await http.get<Page<T>>(page.next)
    out.push(...all(page))
  }
  return out
}

export const movesApi = {
  grids: (level: GridLevel, within?: number) => everyPage<GridOption>('grids/', { level, within }),
  buildings: (q?: string) => everyPage<BuildingOption>('buildings/', { q }),
  async units(building: number): Promise<UnitOption[]> {
    return all(await http.get<Page<UnitOption>>('units/', { building, page_size: 100 }))
  },
  move: (kind: PlaceKind, id: number, body: MoveRequest) => http.post<MoveSummary>(`${kind}/${id}/move/`, body),
  /** Several moves as one change, simulated (rolled back) unless `preview` is false. */
  redistrict: (moves: PlannedMove[], cases: CasesChoice, preview: boolean) =>
    http.post<RedistrictSummary>('grids/redistrict/', {
      moves: moves.map(({ kind, id, to }) => ({ kind, id, to })),
      cases,
      preview,
    }),

  workers: () => everyPage<WorkerOption>('users/', {}),
  work: (worker: number) => http.get<HandoverWork>(`users/${worker}/handover/`),
  handover: (worker: number, body: { to: number | null; preview: boolean; end_roles?: boolean }) =>
    http.post<HandoverSummary>(`users/${worker}/handover/`, body),
  reassign: (cases: { id: number; version: number }[], assignee: number, note = '') =>
    http.post<{ assignee: number; cases: string[] }>('cases/reassign/', { cases, assignee, note }),
  /** Accept, assign or escalate each selected case on its own (POST /cases/bulk/): one result per case. */
  bulk: (body: { action: BulkAction; cases: { id: number; version: number }[]; assignee?: number; note?: string }) =>
    http.post<{ results: BulkResult[] }>('cases/bulk/', body),
}

export type BulkAction = 'accept' | 'assign' | 'escalate'

export type BulkResult =
  | { id: number; ok: true; version: number; status: string }
  | { id: number; ok: false; code: string; message: string }
