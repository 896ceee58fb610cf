import type { Hotspot } from '@/api/hotspots'

type T = (key: string, values?: Record<string, unknown>) => string

/** Where a hotspot lies: its building (and grid), or its grid. */
export function hotspotPlace(h: Hotspot): string {
  return h.building_name ? `${h.building_name} · ${h.grid_name}` : h.grid_name
}

/** Its figure in words: "30天内4次", "本周5次，上周1次", with the circle's radius for a nearby one. */
export function hotspotFigure(h: Hotspot, t: T): string {
  if (h.kind === 'rising') return t('hotspots.rising', { count: h.count, before: h.previous_count ?? 0 })
  const figure = t('hotspots.countIn', { count: h.count, days: h.window_days })
  return h.kind === 'nearby' && h.metres ? figure + t('hotspots.within', { metres: h.metres }) : figure
}
