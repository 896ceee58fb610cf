import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import { i18n, setLocale } from '@/locales'
import CaseDetailView from './CaseDetailView.vue'

function json(status: number, body: unknown) {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } })
}

const kase = {
  id: 7,
  number: 'N-7',
  title: '下水道堵塞',
  description: '',
  status: 'accepted',
  version: 3,
  sla_state: 'ok',
  source: 'resident',
  departments: [],
  deadlines: { accept_by: null, handle_by: null, verify_by: null },
  allowed_actions: [],
  created_at: '2026-12-01T08:00:00+08:00',
  hops: [],
}

describe('CaseDetailView duplicates', () => {
  let fetchMock: ReturnType<typeof vi.fn>
  beforeEach(() => {
    fetchMock = vi.fn()
    vi.stubGlobal('fetch', fetchMock)
    setLocale('zh-CN')
  })
  afterEach(() => {
    vi.unstubAllGlobals()
    document.body.innerHTML = ''
  })

  async function mountWith(body: unknown) {
    fetchMock.mockImplementation(async (url: string) => {
      if (url === '/api/v1/cases/7/') return json(200, body)
      if (url.startsWith('/api/v1/cases/7/events/')) return json(200, { results: [], next: null })
      return json(200, [])
    })
    const pinia = createPinia()
    setActivePinia(pinia)
    const w = mount(CaseDetailView, { props: { id: 7 }, global: { plugins: [pinia, i18n] } })
    await flushPromises()
    return w
  }

  it('lists the reports merged into the case', async () => {
    const w = await mountWith({
      ...kase,
      duplicates: [{ id: 9, number: 'N-9', title: '3栋下水道又冒水', created_at: '2026-12-01T09:00:00+08:00', source: 'resident' }],
    })
    const section = w.find('[data-test="case-duplicates"]')
    expect(section.exists()).toBe(true)
    expect(section.text()).toContain('已合并的重复上报（1）')
    expect(section.text()).toContain('3栋下水道又冒水')
    expect(section.text()).toContain('N-9')
  })

  it('shows nothing when there are none', async () => {
    const w = await mountWith({ ...kase, duplicates: [] })
    expect(w.find('[data-test="case-duplicates"]').exists()).toBe(false)
  })
})
