import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import type { Case } from '@/api/cases'
import { i18n, setLocale } from '@/locales'
import { useCaseDetailStore } from '@/stores/caseDetail'
import CaseActions from './CaseActions.vue'

function json(status: number, body: unknown) {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } })
}

const kase = {
  id: 7,
  number: 'N-7',
  title: 't',
  status: 'in_progress',
  version: 5,
  owner_grid: 11,
  allowed_actions: ['resolve', 'escalate', 'merge_unknown'],
} as unknown as Case

describe('CaseActions', () => {
  let fetchMock: ReturnType<typeof vi.fn>
  beforeEach(() => {
    document.cookie = 'csrftoken=tok; path=/'
    fetchMock = vi.fn()
    vi.stubGlobal('fetch', fetchMock)
    setLocale('zh-CN')
  })
  afterEach(() => {
    vi.unstubAllGlobals()
    document.body.innerHTML = ''
  })

  async function mountActions() {
    const pinia = createPinia()
    setActivePinia(pinia)
    useCaseDetailStore().current = { ...kase }
    const w = mount(CaseActions, { props: { kase }, global: { plugins: [pinia, i18n] }, attachTo: document.body })
    await flushPromises()
    return w
  }

  it('shows a button per known allowed action only', async () => {
    const w = await mountActions()
    const labels = w.findAll('.gc-actions button').map((b) => b.text())
    expect(labels).toEqual(['办结', '上报上级'])
  })

  it('asks for the note before resolving, then sends it with the version', async () => {
    fetchMock.mockImplementation(async (url: string) => {
      if (url === '/api/v1/cases/7/resolve/') return json(200, { ...kase, status: 'resolved', version: 6, allowed_actions: [] })
      return json(200, [])
    })
    const w = await mountActions()
    await w.findAll('.gc-actions button')[0].trigger('click')
    await flushPromises()
    const form = document.body.querySelector('form.action-form') as HTMLFormElement
    expect(form).not.toBeNull()
    form.dispatchEvent(new Event('submit'))
    await flushPromises()
    expect(document.body.textContent).toContain('必填')
    expect(fetchMock).not.toHaveBeenCalled()

    const textarea = form.querySelector('textarea') as HTMLTextAreaElement
    textarea.value = '已清理楼道'
    textarea.dispatchEvent(new Event('input'))
    form.dispatchEvent(new Event('submit'))
    await flushPromises()
    const call = fetchMock.mock.calls.find((c) => c[0] === '/api/v1/cases/7/resolve/')!
    expect(JSON.parse(call[1].body)).toEqual({ version: 5, note: '已清理楼道' })
    expect(useCaseDetailStore().current?.status).toBe('resolved')
  })

  it('supervises with the comment its form spec asks for (督办)', async () => {
    fetchMock.mockImplementation(async (url: string) => {
      if (url === '/api/v1/cases/7/supervise/') return json(200, { ...kase, version: 6, allowed_actions: [] })
      return json(200, [])
    })
    const pinia = createPinia()
    setActivePinia(pinia)
    const supervised = { ...kase, allowed_actions: ['supervise'] } as Case
    useCaseDetailStore().current = { ...supervised }
    const w = mount(CaseActions, { props: { kase: supervised }, global: { plugins: [pinia, i18n] }, attachTo: document.body })
    await flushPromises()
    const button = w.find('.gc-actions button')
    expect(button.text()).toBe('督办')
    await button.trigger('click')
    await flushPromises()
    const form = document.body.querySelector('form.action-form') as HTMLFormElement
    expect(form.textContent).toContain('意见')
    form.dispatchEvent(new Event('submit'))
    await flushPromises()
    expect(fetchMock).not.toHaveBeenCalled()
    const textarea = form.querySelector('textarea') as HTMLTextAreaElement
    textarea.value = '请今天处理'
    textarea.dispatchEvent(new Event('input'))
    form.dispatchEvent(new Event('submit'))
    await flushPromises()
    const call = fetchMock.mock.calls.find((c) => c[0] === '/api/v1/cases/7/supervise/')!
    expect(JSON.parse(call[1].body)).toEqual({ version: 5, comment: '请今天处理' })
  })

  it('assigns from the picker: the server\'s eligible people, own worker first, searched on the server', async () => {
    const people = [
      { id: 21, username: 'm1', display_name: '吴慧霞', roles: [{ role: 'micro_grid_worker', grid: 11, grid_name: '二号微网格' }], own_worker: true, open_cases: 1, due_visits: 6 },
      { id: 22, username: 'g1', display_name: '张芳', roles: [{ role: 'grid_worker', grid: 10, grid_name: '第六网格' }], own_worker: false, open_cases: 0, due_visits: 0 },
    ]
    fetchMock.mockImplementation(async (url: string) => {
      if (url.startsWith('/api/v1/cases/7/assignees/')) {
        const q = new URL(url, 'http://x').searchParams.get('q')
        const results = q ? people.filter((p) => p.username === 'g1') : people
        return json(200, { next: null, previous: null, count: results.length, results })
      }
      if (url === '/api/v1/cases/7/assign/') return json(200, { ...kase, status: 'assigned', version: 6, allowed_actions: [] })
      return json(200, [])
    })
    const pinia = createPinia()
    setActivePinia(pinia)
    const accepted = { ...kase, status: 'accepted', allowed_actions: ['assign'] } as Case
    useCaseDetailStore().current = { ...accepted }
    const w = mount(CaseActions, { props: { kase: accepted }, global: { plugins: [pinia, i18n] }, attachTo: document.body })
    await flushPromises()
    await w.find('.gc-actions button').trigger('click')
    await flushPromises()
    const form = document.body.querySelector('form.action-form') as HTMLFormElement
    const rows = () => [...form.querySelectorAll('.picker__list .van-cell')].map((c) => c.textContent ?? '')
    expect(rows()[0]).toContain('吴慧霞')
    expect(rows()[0]).toContain('本网格')
    expect(rows()[0]).toContain('在办 1 件 · 待走访 6 项')
    vi.useFakeTimers()
    const search = form.querySelector('.picker__search input') as HTMLInputElement
    search.value = 'zf'
    search.dispatchEvent(new Event('input'))
    await vi.advanceTimersByTimeAsync(300)
    vi.useRealTimers()
    await flushPromises()
    expect(fetchMock.mock.calls.some((c) => String(c[0]).includes('/assignees/?q=zf'))).toBe(true)
    expect(rows()).toHaveLength(1)
    ;(form.querySelector('.picker__list .van-cell') as HTMLElement).click()
    await flushPromises()
    form.dispatchEvent(new Event('submit'))
    await flushPromises()
    const call = fetchMock.mock.calls.find((c) => c[0] === '/api/v1/cases/7/assign/')!
    expect(JSON.parse(call[1].body)).toEqual({ version: 5, assignee: 22 })
  })
})
