import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import { i18n, setLocale } from '@/locales'
import HotspotsPanel from './HotspotsPanel.vue'

const HOTSPOT = {
  id: 7, kind: 'building', category: 3, category_name: '私拉电线（飞线）', grid: 5, grid_name: '第一微网格', building: 9,
  building_name: '1栋', window_days: 30, threshold: 2, count: 4, previous_count: null, metres: null, location: null,
  first_seen: '2026-11-07T00:00:00+08:00', last_seen: '2026-11-30T00:00:00+08:00', detected_at: '', created_at: '',
  current: true, status: 'open', status_at: null, case_count: 4, cases: [], preventive_case: null, allowed_actions: [],
}

describe('HotspotsPanel', () => {
  let fetchMock: ReturnType<typeof vi.fn>
  beforeEach(() => {
    fetchMock = vi.fn(async () => new Response(JSON.stringify({ next: null, previous: null, results: [HOTSPOT] }), {
      status: 200, headers: { 'Content-Type': 'application/json' },
    }))
    vi.stubGlobal('fetch', fetchMock)
    setLocale('zh-CN')
  })
  afterEach(() => vi.unstubAllGlobals())

  it('lists the open hotspots still recurring in the grid, each with its figure, and reloads with the dashboard', async () => {
    const wrapper = mount(HotspotsPanel, { props: { range: { grid: 12 }, loads: 1 }, global: { plugins: [i18n] } })
    await flushPromises()
    const url = new URL(String(fetchMock.mock.calls[0][0]), 'http://x')
    expect(url.pathname).toBe('/api/v1/hotspots/')
    expect(Object.fromEntries(url.searchParams)).toMatchObject({ status: 'open', current: 'true', within: '12' })
    const item = wrapper.find('[data-test="hotspot-7"]')
    expect(item.text()).toContain('同一楼栋')
    expect(item.text()).toContain('1栋 · 第一微网格')
    expect(item.text()).toContain('30天内4次')
    expect(item.attributes('href')).toBe('/console/hotspots/7')
    await wrapper.setProps({ loads: 2 })
    await flushPromises()
    expect(fetchMock).toHaveBeenCalledTimes(2)
  })
})
