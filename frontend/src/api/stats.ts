import { http } from './http'

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
}

export interface TimeseriesPoint {
  date: string
  value: number
}

export interface GridRankingRow {
  grid: number
  grid_name: string
  total: number
  on_time_rate: number | null
  satisfaction_rate: number | null
}

export type Row = Record<string, unknown>

export interface CoverageFigures {
  residents?: number
  on_time?: number
  rate: number | null
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

export const statsApi = {
  summary: (r: StatsRange) => http.get<StatsSummary>('stats/summary/', { ...r }),
  timeseries: (r: StatsRange, metric = 'total') =>
    http.get<{ points: TimeseriesPoint[] }>('stats/timeseries/', { ...r, metric }),
  gridRanking: (r: StatsRange) => http.get<{ results: GridRankingRow[] }>('stats/grid-ranking/', { ...r }),
  departments: (r: StatsRange) => http.get<{ results: Row[] } | Row[]>('stats/departments/', { ...r }),
  // Every figure takes the same grid and period (gridcase/stats/params.py), visit coverage included.
  visitCoverage: (r: StatsRange) => http.get<VisitCoverage>('stats/visit-coverage/', { ...r }),
  holdTimes: (r: StatsRange) => http.get<{ results: HoldTime[] }>('stats/hold-times/', { ...r }),
}
