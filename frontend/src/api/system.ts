import { http } from './http'

/** An operator warning from GET /api/v1/system/status/ (empty for roles that cannot act on it). */
export interface SystemWarning {
  code: string // e.g. 'calendar_missing'
  message: string // the server's text, in the requested language
  years?: number[] // calendar_missing: years with no holiday calendar (deadlines count weekends only)
}

export const systemApi = {
  status: () => http.get<{ warnings: SystemWarning[] }>('system/status/'),
}
