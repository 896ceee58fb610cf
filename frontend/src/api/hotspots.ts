import { http } from './http'
import type { Case } from './cases'
import type { Page } from './types'

/** 未诉先办: one category again and again in a place, or rising (`hotspots/`, gridcase/cases/hotspots.py). */
export type HotspotKind = 'building' | 'micro_grid' | 'nearby' | 'rising'
export type HotspotStatus = 'open' | 'handled' | 'dismissed'
export type HotspotAction = 'open_case' | 'dismiss'

export interface HotspotCase {
  id: number
  number: string
  title: string
  status: string
  grid: number
  grid_name: string
  building: number | null
  created_at: string
}

export interface Hotspot {
  id: number
  kind: HotspotKind
  category: number
  category_name: string
  grid: number
  grid_name: string
  building: number | null
  building_name: string
  window_days: number
  threshold: number
  /** Cases in the latest window (rising: this week). */
  count: number
  /** Rising: the week before. */
  previous_count: number | null
  /** Nearby: the circle's radius. */
  metres: number | null
  location: { lat: number; lng: number } | null
  first_seen: string
  last_seen: string
  detected_at: string
  created_at: string
  /** Still found by the latest detection. */
  current: boolean
  status: HotspotStatus
  status_at: string | null
  /** Every case the hotspot counted. */
  case_count: number
  /** Those the caller may see, newest first. */
  cases: HotspotCase[]
  preventive_case: { id: number; number: string; status: string } | null
  allowed_actions: HotspotAction[]
}

export interface HotspotQuery {
  status?: HotspotStatus
  kind?: HotspotKind
  current?: boolean
  within?: number
  page_size?: number
}

export const hotspotsApi = {
  list: (q: HotspotQuery = {}) =>
    http.get<Page<Hotspot>>('hotspots/', { ...q, current: q.current === undefined ? undefined : String(q.current) }),
  more: (next: string) => http.get<Page<Hotspot>>(next),
  get: (id: number) => http.get<Hotspot>(`hotspots/${id}/`),
  /** One preventive case from the hotspot, once (a second try: 409 hotspot_already_opened). */
  openCase: (id: number) => http.post<Case>(`hotspots/${id}/open_case/`, {}),
  dismiss: (id: number) => http.post<Hotspot>(`hotspots/${id}/dismiss/`, {}),
}
