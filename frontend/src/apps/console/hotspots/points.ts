import { hotspotsApi, type Hotspot } from '@/api/hotspots'
import { hotspotFigure, hotspotPlace } from './format'

type T = (key: string, values?: Record<string, unknown>) => string

/** A map point (the shape of the grid map's `points` layer: id, lat, lng, label, colour, radius). */
export interface HotspotPoint {
  id: string
  lat: number
  lng: number
  label: string
  color: string
  radius: number
}

const COLORS: Record<Hotspot['kind'], string> = {
  building: '#b91c1c',
  micro_grid: '#c2410c',
  nearby: '#a16207',
  rising: '#7c3aed',
}

/** Hotspots with a point as a map layer: the more cases, the larger the dot. */
export function hotspotPoints(rows: Hotspot[], t: T): HotspotPoint[] {
  return rows
    .filter((h) => h.location)
    .map((h) => ({
      id: `hotspot-${h.id}`,
      lat: h.location!.lat,
      lng: h.location!.lng,
      label: `${t(`hotspots.kinds.${h.kind}`)} · ${h.category_name} · ${hotspotPlace(h)} · ${hotspotFigure(h, t)}`,
      color: COLORS[h.kind],
      radius: Math.min(16, 6 + 2 * h.count),
    }))
}

/** The open hotspots still recurring in a subtree, as map points (one request, up to 200). */
export async function loadHotspotPoints(t: T, within?: number): Promise<HotspotPoint[]> {
  const page = await hotspotsApi.list({ status: 'open', current: true, within, page_size: 200 })
  return hotspotPoints(page.results, t)
}
