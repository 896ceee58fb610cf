import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import { i18n, setLocale } from '@/locales'
import { useSessionStore } from '@/stores/session'
import ImportPage from './ImportPage.vue'

function json(status: number, body: unknown) {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } })
}

const job = (over: Record<string, unknown>) => ({
  id: 7, grid: 2, grid_code: 'BLZ', filename: '台账.xlsx', file_type: 'xlsx', status: 'pending', total_rows: 1200,
  rows_done: 0, counts: {}, error: '', created_at: '2026-12-02T10:00:00+08:00', finished_at: null, report: null, ...over,
})

describe('ImportPage', () => {
  let fetchMock: ReturnType<typeof vi.fn>
  beforeEach(() => {
    vi.useFakeTimers({ shouldAdvanceTime: true })
    document.cookie = 'csrftoken=t'
    setLocale('zh-CN')
  })
  afterEach(() => {
    vi.useRealTimers()
    vi.unstubAllGlobals()
  })

  it('follows a background job to its report and offers the refused rows as XLSX', async () => {
    const done = job({
      status: 'done', rows_done: 1200, counts: { created: 1198, updated: 0, unchanged: 0, refused: 2 },
      report: { total: 1200, rows: [
        { row: 2, name: '刘桂兰', status: 'created' },
        { row: 5, name: '张错日', status: 'refused', reasons: [{ code: 'invalid_date', message: '出生日期“1950-13-45”不是有效日期' }] },
      ] },
    })
    let polls = 0
    fetchMock = vi.fn(async (url: string, init?: RequestInit) => {
      const path = new URL(url, 'http://x').pathname
      if (path === '/api/v1/grids/') return json(200, { next: null, previous: null, results: [{ id: 2, code: 'BLZ', name: '八里庄社区', level: 'community', parent: 1, path: ['八里街道'], children_count: 3 }] })
      if (path === '/api/v1/imports/' && init?.method === 'POST') return json(202, job({}))
      if (path === '/api/v1/imports/') return json(200, { next: null, previous: null, results: [] })
      if (path === '/api/v1/imports/7/') return json(200, ++polls < 2 ? job({ status: 'running', rows_done: 600 }) : done)
      return json(404, { code: 'not_found', message: 'x' })
    })
    vi.stubGlobal('fetch', fetchMock)
    const pinia = createPinia()
    setActivePinia(pinia)
    useSessionStore().me = { id: 4, username: 'secretary', display_name: '', departments: [], primary_role: 'secretary', home: 'console',
      roles: [{ grid: 2, grid_code: 'BLZ', grid_name: '八里庄社区', grid_level: 'community', role: 'secretary' }] }
    const wrapper = mount(ImportPage, { global: { plugins: [pinia, i18n] } })
    await flushPromises()

    const input = wrapper.find<HTMLInputElement>('input[type=file]')
    Object.defineProperty(input.element, 'files', { value: [new File(['x'], '台账.xlsx')] })
    await input.trigger('change')
    await wrapper.find('form').trigger('submit')
    await flushPromises()
    expect(wrapper.find('[data-test=import-status]').text()).toBe('排队中')

    await vi.advanceTimersByTimeAsync(1600)
    await flushPromises()
    expect(wrapper.text()).toContain('已处理 600 / 1200 行')
    await vi.advanceTimersByTimeAsync(1600)
    await flushPromises()
    expect(wrapper.find('[data-test=import-counts]').text()).toContain('未导入 2')
    const rows = wrapper.findAll('[data-test=import-rows] tbody tr')
    expect(rows).toHaveLength(1) // only the refused rows while there are any
    expect(rows[0].text()).toContain('1950-13-45')
    expect(wrapper.find('[data-test=download-refused]').attributes('href')).toBe('/api/v1/imports/7/report/?type=xlsx&rows=refused')
    const upload = fetchMock.mock.calls.find((c) => c[1]?.method === 'POST')!
    expect((upload[1].body as FormData).get('grid')).toBe('2')
  })
})
