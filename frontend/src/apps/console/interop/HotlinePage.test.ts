import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount, RouterLinkStub } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import { i18n, setLocale } from '@/locales'
import HotlinePage from './HotlinePage.vue'

function json(status: number, body: unknown) {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } })
}

const cb = (stage: string, state: string, over: Record<string, unknown> = {}) => ({
  stage, state, attempts: 1, last_error: '', sent_at: state === 'sent' ? '2026-12-02T10:05:00+08:00' : null,
  next_attempt_at: null, created_at: '2026-12-02T10:04:00+08:00', ...over,
})

describe('HotlinePage', () => {
  beforeEach(() => setLocale('zh-CN'))
  afterEach(() => vi.unstubAllGlobals())

  it('lists hotline tickets with each stage callback in words', async () => {
    vi.stubGlobal('fetch', vi.fn(async (url: string) => {
      const path = new URL(url, 'http://x').pathname
      if (path === '/api/v1/hotline/tickets/') {
        return json(200, { next: null, previous: null, results: [{
          id: 1, ticket_id: 'GD20261202-0001', case: 42, case_number: '2026-BLZ-000042', case_status: 'resolved',
          grid_name: '一网格1号微网格', received_at: '2026-12-02T10:00:00+08:00', address: '东篱苑1栋', category_code: '0301',
          callbacks: [cb('accepted', 'sent'), cb('replied', 'sent'),
            cb('resolved', 'pending', { attempts: 2, last_error: 'HTTP 503' })],
        }] })
      }
      return json(404, { code: 'not_found', message: 'x' })
    }))
    const pinia = createPinia()
    setActivePinia(pinia)
    const wrapper = mount(HotlinePage, { global: { plugins: [pinia, i18n], stubs: { RouterLink: RouterLinkStub } } })
    await flushPromises()
    const row = wrapper.find('[data-test=hotline-tickets] tbody tr')
    expect(row.text()).toContain('GD20261202-0001')
    expect(row.text()).toContain('2026-BLZ-000042')
    expect(row.text()).toContain('待核查')
    expect(row.find('[data-stage=accepted]').text()).toContain('已送达')
    const resolved = row.find('[data-stage=resolved] span')
    expect(resolved.text()).toContain('等待发送')
    expect(resolved.attributes('title')).toContain('HTTP 503')
    expect(resolved.attributes('title')).toContain('已尝试 2 次')
    expect(row.find('[data-stage=rating]').text()).toBe('—')
    expect(wrapper.findComponent(RouterLinkStub).props('to')).toBe('/console/cases/42')
  })
})
