/** The audit log: who revealed which resident's data or read which sensitive case, when. */
import { apiUrl, http } from './http'
import type { Page } from './types'

export const AUDIT_ACTIONS = ['reveal', 'read_sensitive', 'resident_status', 'import'] as const

export interface AuditEntry {
  id: number
  at: string
  actor: number | null
  actor_username: string
  actor_name: string
  action: string
  action_label: string
  object_type: string
  object_id: string
  subject: string
  grid: number | null
  grid_name: string
  fields: string[]
  ip: string | null
  extra: Record<string, unknown>
}

export interface AuditFilters {
  actor?: number
  action?: string
  resident?: number
  case?: number
  after?: string
  before?: string
}

export const auditApi = {
  list: (f: AuditFilters = {}) => http.get<Page<AuditEntry>>('audit-log/', { ...f }),
  more: (next: string) => http.get<Page<AuditEntry>>(next),
  exportUrl: (f: AuditFilters, type: 'csv' | 'xlsx') => apiUrl('audit-log/export/', { ...f, type }),
}
