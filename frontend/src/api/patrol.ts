import { http } from './http'
import type { Page } from './types'

/** One line of a worker's patrol log (巡查日志, `patrol-entries/`). */
export interface PatrolEntry {
  id: number
  client_uuid: string
  worker: number | null
  worker_name: string
  grid: number
  grid_name: string
  building: number | null
  building_name: string
  at: string
  /** The local (Asia/Shanghai) day of `at`. */
  on: string
  lat: number | null
  lng: number | null
  note: string
  /** Read through the scoped file view (same origin, session cookie), or null. */
  photo: string | null
  /** Marked as reported: a case report carries `case_key`; `case` is set once that case exists. */
  reported: boolean
  case_key: string
  case: number | null
  created_at: string
}

export interface PatrolEntryCreate {
  /** Made once per entry: a resend (double tap, lost answer) stores it once. */
  client_uuid: string
  grid: number
  building?: number | null
  at: string
  lat?: number | null
  lng?: number | null
  note: string
}

export interface BuildingRef {
  id: number
  name: string
  grid: number
}

export interface PatrolQuery {
  worker?: number
  date?: string
  grid?: number
  within?: number
  page_size?: number
}

export const patrolApi = {
  list: (q: PatrolQuery) => http.get<Page<PatrolEntry>>('patrol-entries/', { page_size: 100, ...q }),
  more: (next: string) => http.get<Page<PatrolEntry>>(next),
  create: (e: PatrolEntryCreate) => http.post<PatrolEntry>('patrol-entries/', e),
  /** An entry with its (already compressed) photo, as one multipart form. */
  createWithPhoto(e: PatrolEntryCreate, photo: Blob) {
    const form = new FormData()
    for (const [k, value] of Object.entries(e)) if (value !== undefined && value !== null) form.append(k, String(value))
    form.append('photo', photo, 'patrol.jpg')
    return http.upload<PatrolEntry>('patrol-entries/', form)
  },
  /** Mark the entry as reported with the case report's client_key (chosen before the report is sent). */
  markReported: (id: number, caseKey: string) => http.post<PatrolEntry>(`patrol-entries/${id}/report/`, { case_key: caseKey }),
  buildings: () => http.get<Page<BuildingRef>>('buildings/', { page_size: 200 }),
}

/** The report form's query for "turn this observation into a case": the key links the case to the entry. */
export function reportQuery(entry: PatrolEntry, key: string): Record<string, string> {
  const where = entry.building_name ? `${entry.building_name}：` : ''
  return { key, grid: String(entry.grid), description: `${where}${entry.note}`.trim(), from: 'patrol' }
}
