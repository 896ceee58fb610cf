import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import { i18n, setLocale } from '@/locales'
import DashboardPage from './DashboardPage.vue'

vi.mock('./charts', () => ({ VChart: { name: 'VChart', template: '<div class="chart" />' } }))

function json(status: number, body: unknown) {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } })
}

describe('DashboardPage', () => {
  let fetchMock: ReturnType<typeof vi.fn>
  beforeEach(() => {
    fetchMock = vi.fn(async (url: unknown) =>
      json(200, String(url).includes('/stats/hold-times/') ? { results: [], open: 0 } : {}))
    vi.stubGlobal('fetch', fetchMock)
    setLocale('zh-CN')
  })
  afterEach(() => {
    vi.unstubAllGlobals()
  })

  it('asks every figure, visit coverage and the ranking included, for the chosen period', async () => {
    const pinia = createPinia()
    setActivePinia(pinia)
    const wrapper = mount(DashboardPage, { global: { plugins: [pinia, i18n] } })
    await flushPromises()
    const from = wrapper.find<HTMLInputElement>('input[type="date"]')
    fetchMock.mockClear()
    await from.setValue('2026-01-01')
    await wrapper.find('form').trigger('submit')
    await flushPromises()
    const urls = fetchMock.mock.calls.map((call) => new URL(String(call[0]), 'http://x'))
    const paths = urls.map((u) => u.pathname)
    for (const path of ['summary', 'timeseries', 'grid-ranking', 'departments', 'visit-coverage', 'hold-times']) {
      expect(paths).toContain(`/api/v1/stats/${path}/`)
    }
    for (const url of urls.filter((u) => u.pathname.startsWith('/api/v1/stats/'))) {
      expect(url.searchParams.get('from'), url.pathname).toBe('2026-01-01')
      expect(url.searchParams.get('to'), url.pathname).toMatch(/^\d{4}-\d{2}-\d{2}$/)
    }
  })
})
