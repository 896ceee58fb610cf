import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import type { Case } from '@/api/cases'
import { i18n, setLocale } from '@/locales'
import BulkReassignBar from './BulkReassignBar.vue'

function json(status: number, body: unknown) {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } })
}

const kase = (id: number, status: string, version = 3) => ({ id, number: `N-${id}`, status, version }) as unknown as Case
const users = {
  next: null,
  previous: null,
  results: [{ id: 9, username: 'successor', display_name: '接班人', roles: [{ grid: 1, grid_name: '第一微网格', role: 'micro_grid_worker' }] }],
}

describe('BulkReassignBar', () => {
  let fetchMock: ReturnType<typeof vi.fn>
  beforeEach(() => {
    document.cookie = 'csrftoken=tok; path=/'
    fetchMock = vi.fn()
    vi.stubGlobal('fetch', fetchMock)
    setLocale('zh-CN')
  })
  afterEach(() => vi.unstubAllGlobals())

  it('names the cases that cannot be reassigned and does not send', async () => {
    fetchMock.mockImplementation(async () => json(200, users))
    const w = mount(BulkReassignBar, { props: { selected: [kase(1, 'assigned'), kase(2, 'closed')] }, global: { plugins: [i18n] } })
    await flushPromises()
    await w.find('[data-test=bulk-assignee]').setValue('9')
    expect(w.text()).toContain('N-2')
    expect(w.find('[data-test=bulk-apply]').attributes('disabled')).toBeDefined()
  })

  it('sends every selected case with the version shown, and says how many were reassigned', async () => {
    fetchMock.mockImplementation(async (url: string, init?: RequestInit) => {
      if (url === '/api/v1/cases/reassign/') {
        expect(JSON.parse(String(init?.body))).toEqual({
          cases: [{ id: 1, version: 3 }, { id: 4, version: 7 }],
          assignee: 9,
          note: '',
        })
        return json(200, { assignee: 9, cases: ['N-1', 'N-4'] })
      }
      return json(200, users)
    })
    const w = mount(BulkReassignBar, {
      props: { selected: [kase(1, 'assigned'), kase(4, 'in_progress', 7)] },
      global: { plugins: [i18n] },
    })
    await flushPromises()
    await w.find('[data-test=bulk-assignee]').setValue('9')
    await w.find('[data-test=bulk-apply]').trigger('click')
    await flushPromises()
    expect(w.emitted('done')?.[0]).toEqual([2])
  })
})
