import { http } from './http'
import type { Page } from './types'

export interface StatsSummary {
  total: number
  response_rate: number | null
  resolution_rate: number | null
  satisfaction_rate: number | null
  on_time_rate: number | null
  median_hours_to_resolve: number | null
  escalation_rate: number | null
  resolved_in_micro_grid_rate: number | null
  by_status: Record<string, number>
  /** Every counter of the period (gridcase/stats/kpis.py), e.g. rated_by_resident, rated_by_callback. */
  counts?: Record<string, number>
  /** When the rollups behind the figures were computed (ISO time; null before the first run). */
  as_of?: string | null
  /** Figure (metric, `by_status.<status>`, `<rate>_denominator`) → the case list behind it (an API URL). */
  drilldown?: Record<string, string>
  /** Rate → the counts of its numerator and denominator (the lengths of its two drill-down lists). */
  parts?: Record<string, { numerator: number; denominator: number }>
  /** The same figures over the period of the same length just before. */
  previous?: { from: string; to: string; total: number } & Partial<Record<string, number | string | null>>
}

export interface TimeseriesPoint {
  date: string
  value: number | null
  from?: string
  to?: string
  numerator?: number | null
  denominator?: number | null
  drilldown?: string
}

export interface GridRankingRow {
  grid: number
  grid_name: string
  grid_code?: string
  total: number
  on_time_rate: number | null
  satisfaction_rate: number | null
  /** The ranked metric's value, the cases it is taken over, and whether that volume is enough to be ranked. */
  value?: number | null
  volume?: number
  ranked?: boolean
  rank?: number | null
  drilldown?: string
  volume_drilldown?: string
}

export interface GridRanking {
  metric: string
  min_volume?: number
  as_of?: string | null
  results: GridRankingRow[]
}

/** The metrics a ranking or a time series can be asked for (gridcase/stats/kpis.py METRICS). */
export const RANKING_METRICS = [
  'on_time_rate',
  'response_rate',
  'resolution_rate',
  'satisfaction_rate',
  'escalation_rate',
  'resolved_in_micro_grid_rate',
  'median_hours_to_resolve',
  'total',
] as const

export type Row = Record<string, unknown>

export interface CoverageFigures {
  residents?: number
  on_time?: number
  rate: number | null
  /** The care plans of the residents visited on time / the others (API URLs). */
  drilldown?: string
  late_drilldown?: string
}

export interface VisitCoverage {
  overall: number | CoverageFigures | null
  by_tag: Row[]
  by_grid: Row[]
}

/** Where cases wait: the median hold of each level (grid levels, then `department`) over holds ended in the period. */
export interface HoldTime {
  level: string
  hops: number
  waiting: number
  median_hours: number | null
}

export interface StatsRange {
  grid?: number
  from?: string
  to?: string
}

/** A care plan as the drill-down list of visit coverage shows it (GET care-plans/?coverage=…). */
export interface CoveragePlan {
  id: number
  resident: number
  resident_name: string
  household_label: string
  grid_name: string
  tags: { code: string; name: string }[]
  worker_name: string
  last_contact_at: string | null
  next_due_on: string | null
}

export const statsApi = {
  /** The care plans behind a visit-coverage figure (its drill-down URL's filters), with their count. */
  coveragePlans: (filters: Record<string, string>) =>
    http.get<Page<CoveragePlan>>('care-plans/', { ...filters, with_count: 'true' }),
  more: <T>(next: string) => http.get<Page<T>>(next),
  summary: (r: StatsRange) => http.get<StatsSummary>('stats/summary/', { ...r }),
  timeseries: (r: StatsRange, metric = 'total') =>
    http.get<{ points: TimeseriesPoint[]; as_of?: string | null }>('stats/timeseries/', { ...r, metric }),
  gridRanking: (r: StatsRange, metric?: string) => http.get<GridRanking>('stats/grid-ranking/', { ...r, metric }),
  departments: (r: StatsRange) => http.get<{ results: Row[] } | Row[]>('stats/departments/', { ...r }),
  // Every figure takes the same grid and period (gridcase/stats/params.py), visit coverage included.
  visitCoverage: (r: StatsRange) => http.get<VisitCoverage>('stats/visit-coverage/', { ...r }),
  holdTimes: (r: StatsRange) => http.get<{ results: HoldTime[] }>('stats/hold-times/', { ...r }),
}
