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
})
