import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import { createRouter, createMemoryHistory } from 'vue-router'
import { i18n, setLocale } from '@/locales'
import SummaryCards from './SummaryCards.vue'

function json(status: number, body: unknown) {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } })
}

const SUMMARY = {
  total: 14,
  response_rate: 0.75,
  resolution_rate: 0.5,
  satisfaction_rate: null,
  on_time_rate: 1,
  escalation_rate: 0.1,
  resolved_in_micro_grid_rate: 1,
  median_hours_to_resolve: 5.5,
  by_status: { reported: 2, closed: 4 },
  counts: { rated_by_resident: 0, rated_by_callback: 0 },
  as_of: '2026-03-08T02:00:00+00:00',
  parts: { response_rate: { numerator: 9, denominator: 12 } },
  previous: { from: '2026-02-22', to: '2026-02-28', total: 20, response_rate: 0.8, escalation_rate: 0.2 },
  drilldown: {
    total: '/api/v1/cases/?within=2&as_of=x&in_figures=true',
    response_rate: '/api/v1/cases/?within=2&responded_on_time=true',
    response_rate_denominator: '/api/v1/cases/?within=2',
    'by_status.closed': '/api/v1/cases/?within=2&status=closed',
  },
}

function router() {
  return createRouter({
    history: createMemoryHistory(),
    routes: [
      { path: '/', component: { template: '<div />' } },
      { path: '/console/cases', name: 'c-cases', component: { template: '<div />' } },
      { path: '/console/care-plans', name: 'c-care-plans', component: { template: '<div />' } },
    ],
  })
}

describe('SummaryCards', () => {
  let fetchMock: ReturnType<typeof vi.fn>
  beforeEach(() => {
    setLocale('zh-CN')
  })
  afterEach(() => vi.unstubAllGlobals())

  it('links every figure to its list, shows as-of, parts and arrows', async () => {
    fetchMock = vi.fn(async () => json(200, SUMMARY))
    vi.stubGlobal('fetch', fetchMock)
    const r = router()
    const wrapper = mount(SummaryCards, { props: { range: { grid: 2 }, loads: 1 }, global: { plugins: [i18n, r] } })
    await flushPromises()
    expect(wrapper.find('[data-test=as-of]').text()).toContain('数据截至')
    const total = wrapper.find('[data-test=figure-total]')
    expect(total.text()).toBe('14')
    expect(total.attributes('href')).toContain('/console/cases?within=2&as_of=x&in_figures=true')
    expect(wrapper.find('[data-test=numerator-response_rate]').text()).toBe('9')
    expect(wrapper.find('[data-test=denominator-response_rate]').text()).toContain('12')
    expect(wrapper.text()).toContain('上期 80%')
    // The escalation rate went down: good news (lower is better).
    const cards = wrapper.findAll('.card')
    const escalation = cards.find((c) => c.text().includes('上报率'))!
    expect(escalation.find('.card__trend--good').exists()).toBe(true)
    await wrapper.find('[data-test=status-closed]').trigger('click')
    await flushPromises()
    expect(r.currentRoute.value.name).toBe('c-cases')
    expect(r.currentRoute.value.query).toMatchObject({ within: '2', status: 'closed' })
  })

  it('shows a failed request as an error with a retry, never a dash', async () => {
    fetchMock = vi.fn(async () => json(500, { code: 'server_error', message: '统计服务暂不可用' }))
    vi.stubGlobal('fetch', fetchMock)
    const wrapper = mount(SummaryCards, { props: { range: {}, loads: 1 }, global: { plugins: [i18n, router()] } })
    await flushPromises()
    expect(wrapper.find('[data-test=summary-error]').text()).toContain('统计服务暂不可用')
    expect(wrapper.find('.card').exists()).toBe(false)
  })
})
