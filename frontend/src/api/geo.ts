/**
 * The console map (issue 9, item 5): grids with their boundaries, buildings as points, the tile layer the
 * deployment configured (none: plain vectors), and redrawing boundaries through the redistricting preview.
 * The rules are on the server (gridcase.grids.geo): a refusal is an ApiError whose `code` names the rule
 * (boundary_invalid, boundary_self_intersects, boundary_overlaps_sibling, unit_outside_building_grid, …).
 */
import { http } from './http'
import type { CasesChoice, RedistrictSummary } from './moves'
import type { GridLevel } from './types'

/** A GeoJSON position: [longitude, latitude]. */
export type Position = [number, number]

export interface Polygon {
  type: 'Polygon'
  coordinates: Position[][]
}

export interface MapGrid {
  id: number
  code: string
  name: string
  level: GridLevel
  parent: number | null
  boundary: Polygon | { type: 'MultiPolygon'; coordinates: Position[][][] }
  centroid: { lat: number; lng: number } | null
  workers: string[]
  open_cases: number
}

export interface MapBuilding {
  id: number
  name: string
  grid: number
  lat: number
  lng: number
}

export interface MapTiles {
  url: string
  attribution: string
}

export interface GridMapData {
  root: number[]
  tiles: MapTiles | null
  grids: MapGrid[]
  buildings: MapBuilding[]
  truncated: boolean
}

/** A point layer another screen can lay over the map (hotspots, cases…). */
export interface MapPoint {
  id: string | number
  lat: number
  lng: number
  label: string
  color?: string
  radius?: number
}

export interface RedrawSummary extends RedistrictSummary {
  boundaries?: { id: number; name: string; before: Polygon | null; after: Polygon; area_m2: { before: number; after: number } }[]
  outside?: { id: number; name: string }[]
  /** Buildings a redrawn micro-grid gains: the micro-grids their units leave and the one they join. */
  buildings?: { id: number; name: string; from: { id: number; name: string }[]; to: { id: number; name: string } }[]
}

export const geoApi = {
  map: (root?: number) => http.get<GridMapData>('grids/map/', { root }),
  /** Redraw boundaries: simulated and rolled back unless `preview` is false. */
  redraw: (boundaries: { grid: number; boundary: Polygon }[], cases: CasesChoice, preview: boolean) =>
    http.post<RedrawSummary>('grids/redistrict/', { boundaries, cases, preview }),
}

/** A ring of [lat, lng] points (the map's order) as a closed GeoJSON polygon ([lng, lat]). */
export function ringToPolygon(ring: [number, number][]): Polygon {
  const coords: Position[] = ring.map(([lat, lng]) => [lng, lat])
  if (coords.length) coords.push([...coords[0]] as Position)
  return { type: 'Polygon', coordinates: [coords] }
}

/** The outer ring of a stored boundary as [lat, lng] points, without the closing point. */
export function polygonToRing(boundary: MapGrid['boundary'] | null | undefined): [number, number][] {
  if (!boundary) return []
  const outer = boundary.type === 'Polygon' ? boundary.coordinates[0] : boundary.coordinates[0]?.[0]
  if (!outer) return []
  const ring = outer.map(([lng, lat]) => [lat, lng] as [number, number])
  const [a, b] = [ring[0], ring[ring.length - 1]]
  if (ring.length > 1 && a[0] === b[0] && a[1] === b[1]) ring.pop()
  return ring
}
