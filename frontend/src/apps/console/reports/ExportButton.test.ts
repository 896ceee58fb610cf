import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import { i18n, setLocale } from '@/locales'
import ExportButton from './ExportButton.vue'

const JOB = { id: 7, kind: 'export_cases', params: {}, status: 'pending', done: 0, total: 9000, progress: 0, filename: '',
  error: '', download_url: null, created_at: '', started_at: null, finished_at: null }

describe('ExportButton', () => {
  beforeEach(() => setLocale('zh-CN'))
  afterEach(() => {
    vi.unstubAllGlobals()
    vi.useRealTimers()
  })

  it('asks for the list with its filters and saves a short list at once', async () => {
    const fetchMock = vi.fn(async (_url: unknown) => new Response(new Blob(['xlsx']), {
      status: 200, headers: { 'Content-Disposition': "attachment; filename=\"cases.xlsx\"; filename*=UTF-8''%E4%BA%8B%E4%BB%B6.xlsx" } }))
    vi.stubGlobal('fetch', fetchMock)
    URL.createObjectURL = vi.fn(() => 'blob:x')
    URL.revokeObjectURL = vi.fn()
    const wrapper = mount(ExportButton, { props: { list: 'cases', query: () => ({ status: 'reported', q: '下水道' }) },
      global: { plugins: [i18n] } })
    await wrapper.find('[data-test="export"]').trigger('click')
    await flushPromises()
    const url = new URL(String(fetchMock.mock.calls[0][0]), 'http://x')
    expect(url.pathname).toBe('/api/v1/cases/export/')
    expect(url.searchParams.get('status')).toBe('reported')
    expect(url.searchParams.get('q')).toBe('下水道')
    expect(wrapper.find('[data-test="export-saved"]').text()).toContain('事件.xlsx')
  })

  it('follows a long list\'s job to its download link', async () => {
    const done = { ...JOB, status: 'done', done: 9000, progress: 1, filename: 'cases.xlsx', download_url: '/api/v1/jobs/7/download/' }
    const fetchMock = vi.fn(async (url: unknown) => {
      if (String(url).includes('/export/')) return new Response(JSON.stringify(JOB), { status: 202 })
      return new Response(JSON.stringify(done), { status: 200, headers: { 'Content-Type': 'application/json' } })
    })
    vi.stubGlobal('fetch', fetchMock)
    const wrapper = mount(ExportButton, { props: { list: 'residents', query: () => ({}), reveal: true },
      global: { plugins: [i18n] } })
    await wrapper.find('[data-test="export"]').trigger('click')
    await flushPromises()
    expect(new URL(String(fetchMock.mock.calls[0][0]), 'http://x').searchParams.get('reveal')).toBe('true')
    const link = wrapper.find('[data-test="job-download"]')
    expect(link.attributes('href')).toBe('/api/v1/jobs/7/download/')
    expect(wrapper.find('[data-test="job"]').text()).toContain('已生成')
  })
})
