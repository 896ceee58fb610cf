import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { ApiError, NetworkError, apiUrl, request, setLanguageProvider } from './http'

function json(status: number, body: unknown) {
  return new Response(body === undefined ? null : JSON.stringify(body), {
    status,
    headers: { 'Content-Type': 'application/json' },
  })
}

async function fail(p: Promise<unknown>): Promise<ApiError> {
  try {
    await p
  } catch (e) {
    return e as ApiError
  }
  throw new Error('expected the request to fail')
}

function clearCookies() {
  for (const c of document.cookie.split(';')) {
    const name = c.split('=')[0].trim()
    if (name) document.cookie = `${name}=; expires=Thu, 01 Jan 1970 00:00:00 GMT; path=/`
  }
}

describe('http client', () => {
  let fetchMock: ReturnType<typeof vi.fn>

  beforeEach(() => {
    clearCookies()
    fetchMock = vi.fn()
    vi.stubGlobal('fetch', fetchMock)
    setLanguageProvider(() => 'zh-CN')
  })
  afterEach(() => {
    vi.unstubAllGlobals()
  })

  it('sends the csrftoken cookie as X-CSRFToken on unsafe methods, same-origin', async () => {
    document.cookie = 'csrftoken=abc123; path=/'
    fetchMock.mockResolvedValue(json(200, { ok: true }))
    await request('cases/1/accept/', { method: 'POST', json: { version: 3 } })
    const [url, init] = fetchMock.mock.calls[0]
    expect(url).toBe('/api/v1/cases/1/accept/')
    expect(init.credentials).toBe('same-origin')
    expect(init.headers['X-CSRFToken']).toBe('abc123')
    expect(init.headers['Content-Type']).toBe('application/json')
    expect(JSON.parse(init.body)).toEqual({ version: 3 })
  })

  it('does not send the CSRF header on GET, and sends Accept-Language from the locale', async () => {
    document.cookie = 'csrftoken=abc123; path=/'
    setLanguageProvider(() => 'en')
    fetchMock.mockResolvedValue(json(200, { results: [] }))
    await request('cases/', { query: { status: 'reported', q: '', overdue: undefined } })
    const [url, init] = fetchMock.mock.calls[0]
    expect(url).toBe('/api/v1/cases/?status=reported')
    expect(init.method).toBe('GET')
    expect(init.headers['X-CSRFToken']).toBeUndefined()
    expect(init.headers['Accept-Language']).toBe('en')
  })

  it('fetches the CSRF cookie first when it is missing', async () => {
    fetchMock.mockImplementation(async (url: string) => {
      if (url === '/api/v1/auth/csrf/') {
        document.cookie = 'csrftoken=fresh; path=/'
        return json(200, {})
      }
      return json(201, { id: 1 })
    })
    await request('visits/', { method: 'POST', json: {} })
    expect(fetchMock.mock.calls.map((c) => c[0])).toEqual(['/api/v1/auth/csrf/', '/api/v1/visits/'])
    expect(fetchMock.mock.calls[1][1].headers['X-CSRFToken']).toBe('fresh')
  })

  it('parses the error shape into ApiError with the server message, code and fields', async () => {
    fetchMock.mockResolvedValue(
      json(400, { code: 'validation_error', message: '标题不能为空', fields: { title: ['必填'] } }),
    )
    const err = await fail(request('cases/', { method: 'POST', json: {} }))
    expect(err).toBeInstanceOf(ApiError)
    expect(err.status).toBe(400)
    expect(err.code).toBe('validation_error')
    expect(err.message).toBe('标题不能为空')
    expect(err.fields).toEqual({ title: ['必填'] })
    expect(err.isConflict).toBe(false)
    expect(err.isTransient).toBe(false)
  })

  it('marks 409 as a conflict and keeps the current object', async () => {
    fetchMock.mockResolvedValue(json(409, { code: 'conflict', message: '已被他人更新', current: { id: 7, version: 5 } }))
    const err = await fail(request('cases/7/start/', { method: 'POST', json: { version: 4 } }))
    expect(err.isConflict).toBe(true)
    expect(err.current).toEqual({ id: 7, version: 5 })
  })

  it('treats 429, 408 and 5xx as transient', async () => {
    for (const status of [408, 429, 500, 503]) {
      fetchMock.mockResolvedValueOnce(json(status, { code: 'x', message: 'later' }))
      const err = await fail(request('x/'))
      expect(err.isTransient).toBe(true)
    }
  })

  it('copes with a non-JSON error body', async () => {
    fetchMock.mockResolvedValue(new Response('<html>Bad gateway</html>', { status: 502 }))
    const err = await fail(request('x/'))
    expect(err).toBeInstanceOf(ApiError)
    expect(err.code).toBe('http_502')
    expect(err.message).toBe('')
  })

  it('wraps a failed fetch in NetworkError', async () => {
    fetchMock.mockRejectedValue(new TypeError('Failed to fetch'))
    await expect(request('x/')).rejects.toBeInstanceOf(NetworkError)
  })

  it('answers undefined for 204', async () => {
    fetchMock.mockResolvedValue(new Response(null, { status: 204 }))
    document.cookie = 'csrftoken=t; path=/'
    await expect(request('auth/logout/', { method: 'POST' })).resolves.toBeNull()
  })

  it('turns absolute cursor links into same-origin paths', () => {
    expect(apiUrl('http://127.0.0.1:8000/api/v1/cases/?cursor=cD0y')).toBe('/api/v1/cases/?cursor=cD0y')
    expect(apiUrl('grids/', { within: 3, level: ['grid', 'micro_grid'] })).toBe('/api/v1/grids/?within=3&level=grid&level=micro_grid')
  })
})
