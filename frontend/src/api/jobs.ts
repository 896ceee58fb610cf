/** Background jobs (exports above the row limit, monthly reports): progress and the owner's download. */
import { ApiError, apiUrl, http, NetworkError, readCookie, type ErrorBody, type Query } from './http'

export type JobStatus = 'pending' | 'running' | 'done' | 'failed'

export interface Job {
  id: number
  kind: string
  params: Record<string, unknown>
  status: JobStatus
  done: number
  total: number | null
  progress: number | null
  filename: string
  error: string
  download_url: string | null
  created_at: string
  started_at: string | null
  finished_at: string | null
}

/** What an export answered: the file itself (a short list) or a job writing it (a long one). */
export type ExportResult = { kind: 'file'; blob: Blob; filename: string } | { kind: 'job'; job: Job }

export type ExportList = 'cases' | 'residents'

function filenameOf(res: Response, fallback: string): string {
  const header = res.headers.get('Content-Disposition') ?? ''
  const star = /filename\*=UTF-8''([^;]+)/i.exec(header)
  if (star) return decodeURIComponent(star[1])
  const plain = /filename="?([^";]+)"?/i.exec(header)
  return plain ? plain[1] : fallback
}

export const jobsApi = {
  get: (id: number) => http.get<Job>(`jobs/${id}/`),
  monthlyReport: (grid: number, month: string) => http.post<Job>('reports/monthly/', { grid, month }),
  exportUrl: (list: ExportList, query: Query) => apiUrl(`${list}/export/`, query),
  /** GET <list>/export/ with the list's filters: the XLSX (200) or a job (202). */
  async export(list: ExportList, query: Query, language: string): Promise<ExportResult> {
    const headers: Record<string, string> = { Accept: 'application/json', 'Accept-Language': language }
    const token = readCookie('csrftoken')
    if (token) headers['X-CSRFToken'] = token
    let res: Response
    try {
      res = await fetch(apiUrl(`${list}/export/`, query), { credentials: 'same-origin', headers })
    } catch (e) {
      throw new NetworkError(e)
    }
    if (res.status === 202) return { kind: 'job', job: (await res.json()) as Job }
    if (!res.ok) {
      let body: ErrorBody | null = null
      try {
        body = (await res.json()) as ErrorBody
      } catch {
        body = null
      }
      throw new ApiError(res.status, body)
    }
    return { kind: 'file', blob: await res.blob(), filename: filenameOf(res, `${list}.xlsx`) }
  },
}

/** Polls a job until it is done or failed (every `everyMs`), reporting each state; resolves with the last one. */
export async function followJob(id: number, onUpdate: (job: Job) => void, everyMs = 1000, signal?: AbortSignal): Promise<Job> {
  for (;;) {
    const job = await jobsApi.get(id)
    onUpdate(job)
    if (job.status === 'done' || job.status === 'failed') return job
    if (signal?.aborted) return job
    await new Promise((resolve) => setTimeout(resolve, everyMs))
  }
}
