import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import type { Case } from '@/api/cases'
import { i18n, setLocale } from '@/locales'
import BulkActionsBar from './BulkActionsBar.vue'

function json(status: number, body: unknown) {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } })
}

const kase = (id: number, version = 3) => ({ id, number: `N-${id}`, status: 'accepted', version }) as unknown as Case
const people = {
  next: null,
  previous: null,
  count: 1,
  results: [{ id: 9, username: 'worker', display_name: '网格员', roles: [], own_worker: true }],
}

describe('BulkActionsBar', () => {
  let fetchMock: ReturnType<typeof vi.fn>
  beforeEach(() => {
    document.cookie = 'csrftoken=tok; path=/'
    fetchMock = vi.fn()
    vi.stubGlobal('fetch', fetchMock)
    setLocale('zh-CN')
  })
  afterEach(() => vi.unstubAllGlobals())

  it('assigns every selected case with its version and lists the failures with their reasons', async () => {
    fetchMock.mockImplementation(async (url: string, init?: RequestInit) => {
      if (url === '/api/v1/cases/bulk/') {
        expect(JSON.parse(String(init?.body))).toEqual({
          action: 'assign',
          cases: [{ id: 1, version: 3 }, { id: 4, version: 7 }],
          assignee: 9,
        })
        return json(200, {
          results: [
            { id: 1, ok: true, version: 4, status: 'assigned' },
            { id: 4, ok: false, code: 'conflict', message: '事件已被他人修改' },
          ],
        })
      }
      expect(url).toContain('/api/v1/cases/1/assignees/')
      return json(200, people)
    })
    const w = mount(BulkActionsBar, { props: { selected: [kase(1), kase(4, 7)] }, global: { plugins: [i18n] } })
    await flushPromises()
    expect(w.find('[data-test=bulk-assign]').attributes('disabled')).toBeDefined()
    await w.find('[data-test=bulk-action-assignee]').setValue('9')
    await w.find('[data-test=bulk-assign]').trigger('click')
    await flushPromises()
    expect(w.emitted('done')).toHaveLength(1)
    const text = w.find('[data-test=bulk-results]').text()
    expect(text).toContain('成功 1 件，失败 1 件')
    expect(text).toContain('N-4：事件已被他人修改')
  })
})
