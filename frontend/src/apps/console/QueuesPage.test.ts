import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import { i18n, setLocale } from '@/locales'
import QueuesPage from './QueuesPage.vue'

function json(status: number, body: unknown) {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } })
}

const QUEUES = [
  { key: 'new', count: 2, filter: { status: 'reported' } },
  { key: 'sla', count: 3, filter: { status: 'reported,accepted,assigned,in_progress', sla_state: 'red,yellow' } },
  { key: 'verification', count: 0, filter: { status: 'resolved' } },
  { key: 'report_in', count: 1, filter: { awaiting_report_in: 'true' } },
]

describe('QueuesPage', () => {
  let fetchMock: ReturnType<typeof vi.fn>
  beforeEach(() => {
    fetchMock = vi.fn(async (url: unknown) =>
      json(200, String(url).includes('/cases/queues/') ? QUEUES : { results: [], next: null }))
    vi.stubGlobal('fetch', fetchMock)
    setLocale('zh-CN')
  })
  afterEach(() => {
    vi.unstubAllGlobals()
  })

  it('shows each queue with its count and lists a tab with its own filter', async () => {
    setActivePinia(createPinia())
    const wrapper = mount(QueuesPage, { global: { plugins: [i18n] } })
    await flushPromises()
    expect(wrapper.find('[data-test="queue-sla"]').text()).toContain('红黄牌')
    expect(wrapper.find('[data-test="queue-sla"]').text()).toContain('3')
    expect(wrapper.findAll('[role="tab"]')).toHaveLength(4)
    fetchMock.mockClear()
    await wrapper.find('[data-test="queue-report_in"]').trigger('click')
    await flushPromises()
    const url = new URL(String(fetchMock.mock.calls[0][0]), 'http://x')
    expect(url.pathname).toBe('/api/v1/cases/')
    expect(url.searchParams.get('awaiting_report_in')).toBe('true')
    expect(wrapper.find('[data-test="queue-report_in"]').attributes('aria-selected')).toBe('true')
  })

  it('shows a failed count request as an error', async () => {
    fetchMock.mockImplementation(async () => json(500, { detail: 'boom' }))
    const wrapper = mount(QueuesPage, { global: { plugins: [i18n] } })
    await flushPromises()
    expect(wrapper.find('[data-test="queues-error"]').exists()).toBe(true)
  })
})
