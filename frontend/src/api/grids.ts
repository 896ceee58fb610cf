import { http } from './http'
import type { GridLevel, Page } from './types'

export interface Grid {
  id: number
  code: string
  name: string
  level: GridLevel
  parent: number | null
  path: string[]
  children_count: number
}

export interface GridFilters {
  within?: number
  level?: GridLevel
  q?: string
}

export const gridsApi = {
  list: (f: GridFilters = {}) => http.get<Page<Grid>>('grids/', { ...f }),
  get: (id: number) => http.get<Grid>(`grids/${id}/`),
  children: (id: number) => http.get<Page<Grid> | Grid[]>(`grids/${id}/children/`),
  tree: (root?: number, depth?: number) => http.get<unknown>('grids/tree/', { root, depth }),
}
