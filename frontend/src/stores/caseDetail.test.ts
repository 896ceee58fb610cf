import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createPinia, setActivePinia } from 'pinia'
import { ApiError } from '@/api/http'
import { useCaseDetailStore } from './caseDetail'

function json(status: number, body: unknown) {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } })
}

const base = { id: 7, number: 'N-7', status: 'assigned', version: 3, allowed_actions: ['start'] }

describe('case detail store', () => {
  let fetchMock: ReturnType<typeof vi.fn>
  beforeEach(() => {
    setActivePinia(createPinia())
    document.cookie = 'csrftoken=tok; path=/'
    fetchMock = vi.fn()
    vi.stubGlobal('fetch', fetchMock)
  })
  afterEach(() => vi.unstubAllGlobals())

  it('sends the version it saw with an action and takes the updated case', async () => {
    fetchMock.mockImplementation(async (url: string, init: RequestInit) => {
      if (url === '/api/v1/cases/7/') return json(200, base)
      if (url === '/api/v1/cases/7/events/') return json(200, { next: null, previous: null, results: [] })
      if (url === '/api/v1/cases/7/resolve/') {
        expect(JSON.parse(String(init.body))).toEqual({ version: 3, note: '已清理' })
        return json(200, { ...base, status: 'resolved', version: 4 })
      }
      throw new Error(url)
    })
    const s = useCaseDetailStore()
    await s.load(7)
    await s.act('resolve', { note: '已清理' })
    expect(s.current?.status).toBe('resolved')
    expect(s.current?.version).toBe(4)
  })

  it('on 409 takes the current case from the error, and rethrows the server message', async () => {
    fetchMock.mockImplementation(async (url: string) => {
      if (url === '/api/v1/cases/7/') return json(200, base)
      if (url === '/api/v1/cases/7/events/') return json(200, [])
      if (url === '/api/v1/cases/7/start/')
        return json(409, { code: 'conflict', message: '事件已被张三更新', current: { ...base, status: 'in_progress', version: 4 } })
      throw new Error(url)
    })
    const s = useCaseDetailStore()
    await s.load(7)
    const err = await s.act('start', {}).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ApiError)
    expect((err as ApiError).message).toBe('事件已被张三更新')
    expect(s.current?.version).toBe(4)
    expect(s.current?.status).toBe('in_progress')
  })

  it('on 409 without `current` reloads the case', async () => {
    let gets = 0
    fetchMock.mockImplementation(async (url: string) => {
      if (url === '/api/v1/cases/7/') return json(200, { ...base, version: 3 + gets++ })
      if (url === '/api/v1/cases/7/events/') return json(200, [])
      if (url === '/api/v1/cases/7/start/') return json(409, { code: 'conflict', message: 'changed' })
      throw new Error(url)
    })
    const s = useCaseDetailStore()
    await s.load(7)
    await s.act('start', {}).catch(() => undefined)
    expect(s.current?.version).toBe(4)
  })
})
