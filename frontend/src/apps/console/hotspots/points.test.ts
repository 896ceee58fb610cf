import { describe, expect, it } from 'vitest'
import type { Hotspot } from '@/api/hotspots'
import { hotspotPoints } from './points'

const t = (key: string, v?: Record<string, unknown>) => (v ? `${key}:${JSON.stringify(v)}` : key)

function hotspot(over: Partial<Hotspot>): Hotspot {
  return {
    id: 1, kind: 'building', category: 3, category_name: '私拉电线（飞线）', grid: 5, grid_name: '第一微网格', building: 9,
    building_name: '1栋', window_days: 30, threshold: 2, count: 4, previous_count: null, metres: null,
    location: { lat: 30.66, lng: 104.08 }, first_seen: '', last_seen: '', detected_at: '', created_at: '', current: true,
    status: 'open', status_at: null, case_count: 4, cases: [], preventive_case: null, allowed_actions: [], ...over,
  }
}

describe('hotspotPoints', () => {
  it('makes one point per located hotspot, labelled with its kind, category, place and figure', () => {
    const points = hotspotPoints([hotspot({}), hotspot({ id: 2, location: null })], t)
    expect(points).toHaveLength(1)
    expect(points[0]).toMatchObject({ id: 'hotspot-1', lat: 30.66, lng: 104.08, color: '#b91c1c', radius: 14 })
    expect(points[0].label).toContain('1栋 · 第一微网格')
    expect(points[0].label).toContain('hotspots.countIn:{"count":4,"days":30}')
  })
})
