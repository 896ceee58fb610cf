/**
 * The one HTTP client of the app. Components and stores use the typed modules in src/api/, which use this.
 * Session auth with Django's CSRF cookie; errors come back as ApiError (server answered) or
 * NetworkError (it did not), so callers can tell "refused" from "try again later".
 */

export const API_BASE = '/api/v1'
const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE'])

export type QueryValue = string | number | boolean | null | undefined
export type Query = Record<string, QueryValue | QueryValue[]>

export interface ErrorBody {
  code?: string
  message?: string
  fields?: Record<string, string[]>
  current?: unknown
  detail?: string
}

export class ApiError extends Error {
  readonly status: number
  readonly code: string
  readonly fields: Record<string, string[]>
  readonly current: unknown

  constructor(status: number, body: ErrorBody | null) {
    super(body?.message || body?.detail || '')
    this.name = 'ApiError'
    this.status = status
    this.code = body?.code || `http_${status}`
    this.fields = body?.fields ?? {}
    this.current = body?.current
  }

  get isConflict() {
    return this.status === 409 || this.status === 412
  }

  /** 408, 429 and 5xx are worth retrying later; other 4xx are a refusal. */
  get isTransient() {
    return this.status === 408 || this.status === 429 || this.status >= 500
  }
}

export class NetworkError extends Error {
  constructor(cause?: unknown) {
    super('network error')
    this.name = 'NetworkError'
    this.cause = cause
  }
}

let languageProvider: () => string = () => 'zh-CN'
/** The i18n module tells the client which language to ask the server for. */
export function setLanguageProvider(fn: () => string) {
  languageProvider = fn
}

let unauthorizedHandler: ((status: number, path: string) => void) | null = null
export function onUnauthorized(fn: ((status: number, path: string) => void) | null) {
  unauthorizedHandler = fn
}

export function readCookie(name: string): string | null {
  if (typeof document === 'undefined') return null
  for (const part of document.cookie.split(';')) {
    const [k, ...v] = part.trim().split('=')
    if (k === name) return decodeURIComponent(v.join('='))
  }
  return null
}

/** Resolves a resource path ("cases/") or a server URL (a cursor `next`) to a same-origin URL. */
export function apiUrl(path: string, query?: Query): string {
  let url: string
  if (/^https?:\/\//.test(path)) {
    // Cursor links are absolute; keep only path and query so they go through the same origin (and the dev proxy).
    const u = new URL(path)
    url = u.pathname + u.search
  } else if (path.startsWith('/')) {
    url = path
  } else {
    url = `${API_BASE}/${path}`
  }
  if (query) {
    const params = new URLSearchParams()
    for (const [k, v] of Object.entries(query)) {
      const values = Array.isArray(v) ? v : [v]
      for (const item of values) {
        if (item === undefined || item === null || item === '') continue
        params.append(k, String(item))
      }
    }
    const qs = params.toString()
    if (qs) url += (url.includes('?') ? '&' : '?') + qs
  }
  return url
}

export interface RequestOptions {
  method?: string
  query?: Query
  json?: unknown
  form?: FormData
  signal?: AbortSignal
}

let csrfPromise: Promise<void> | null = null
/** Asks the server to set the csrftoken cookie (once at a time). */
export function ensureCsrf(): Promise<void> {
  if (readCookie('csrftoken')) return Promise.resolve()
  csrfPromise ??= fetch(apiUrl('auth/csrf/'), {
    credentials: 'same-origin',
    headers: { Accept: 'application/json' },
  })
    .then(() => undefined)
    .catch(() => undefined)
    .finally(() => {
      csrfPromise = null
    })
  return csrfPromise
}

async function parseBody(res: Response): Promise<unknown> {
  const text = await res.text()
  if (!text) return null
  try {
    return JSON.parse(text)
  } catch {
    return null
  }
}

export async function request<T>(path: string, opts: RequestOptions = {}): Promise<T> {
  const method = (opts.method ?? 'GET').toUpperCase()
  const headers: Record<string, string> = {
    Accept: 'application/json',
    'Accept-Language': languageProvider(),
  }
  let body: BodyInit | undefined
  if (opts.form) {
    body = opts.form // the browser sets the multipart boundary
  } else if (opts.json !== undefined) {
    body = JSON.stringify(opts.json)
    headers['Content-Type'] = 'application/json'
  }
  if (UNSAFE.has(method)) {
    if (!readCookie('csrftoken')) await ensureCsrf()
    const token = readCookie('csrftoken')
    if (token) headers['X-CSRFToken'] = token
  }
  const url = apiUrl(path, opts.query)
  let res: Response
  try {
    res = await fetch(url, { method, headers, body, credentials: 'same-origin', signal: opts.signal })
  } catch (e) {
    if (e instanceof DOMException && e.name === 'AbortError') throw e
    throw new NetworkError(e)
  }
  const data = await parseBody(res)
  if (!res.ok) {
    const err = new ApiError(res.status, (data && typeof data === 'object' ? data : null) as ErrorBody | null)
    // DRF with session auth answers 403 "not_authenticated" when the session is gone.
    const signedOut = res.status === 401 || (res.status === 403 && err.code === 'not_authenticated')
    if (signedOut && unauthorizedHandler) {
      unauthorizedHandler(res.status, url)
    }
    throw err
  }
  return data as T
}

/**
 * A multipart POST through XMLHttpRequest, the one way old WebViews report upload progress
 * (`onProgress(0..1)`). Same headers, errors and sign-out handling as request().
 */
export async function uploadWithProgress<T>(path: string, form: FormData, onProgress: (fraction: number) => void): Promise<T> {
  if (!readCookie('csrftoken')) await ensureCsrf()
  const url = apiUrl(path)
  return new Promise<T>((resolve, reject) => {
    const xhr = new XMLHttpRequest()
    xhr.open('POST', url)
    xhr.withCredentials = true
    xhr.setRequestHeader('Accept', 'application/json')
    xhr.setRequestHeader('Accept-Language', languageProvider())
    const token = readCookie('csrftoken')
    if (token) xhr.setRequestHeader('X-CSRFToken', token)
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable && e.total) onProgress(Math.min(1, e.loaded / e.total))
    }
    xhr.onerror = () => reject(new NetworkError())
    xhr.ontimeout = () => reject(new NetworkError())
    xhr.onabort = () => reject(new NetworkError())
    xhr.onload = () => {
      let data: unknown = null
      try {
        data = xhr.responseText ? JSON.parse(xhr.responseText) : null
      } catch {
        data = null
      }
      if (xhr.status >= 200 && xhr.status < 300) {
        onProgress(1)
        resolve(data as T)
        return
      }
      if (xhr.status === 0) {
        reject(new NetworkError())
        return
      }
      const err = new ApiError(xhr.status, (data && typeof data === 'object' ? data : null) as ErrorBody | null)
      const signedOut = xhr.status === 401 || (xhr.status === 403 && err.code === 'not_authenticated')
      if (signedOut && unauthorizedHandler) unauthorizedHandler(xhr.status, url)
      reject(err)
    }
    xhr.send(form)
  })
}

export const http = {
  get: <T>(path: string, query?: Query, signal?: AbortSignal) => request<T>(path, { query, signal }),
  post: <T>(path: string, json?: unknown) => request<T>(path, { method: 'POST', json: json ?? {} }),
  patch: <T>(path: string, json: unknown) => request<T>(path, { method: 'PATCH', json }),
  upload: <T>(path: string, form: FormData, onProgress?: (fraction: number) => void) =>
    onProgress ? uploadWithProgress<T>(path, form, onProgress) : request<T>(path, { method: 'POST', form }),
}
