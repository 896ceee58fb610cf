/** Notices (居务公开) and emergency broadcasts: publishing, the worker's inbox and acknowledgement, the chase list,
 *  and the public board of a community or a micro-grid's QR page. */
import { http } from './http'
import type { Page } from './types'

export type NoticeKind = 'notice' | 'broadcast'
export type NoticeAudience = 'workers' | 'residents'
export type NoticeState = 'scheduled' | 'published' | 'expired' | 'withdrawn'

export interface NoticeAttachment {
  id: number
  original_name: string
  content_type: string
  size: number
  url: string
}

export interface Notice {
  id: number
  grid: number
  grid_name: string
  kind: NoticeKind
  audience: NoticeAudience
  title: string
  body: string
  requires_ack: boolean
  publish_at: string
  expires_at: string | null
  state: NoticeState
  published_at: string | null
  recipients_count: number
  created_by_name: string
  attachments: NoticeAttachment[]
  my_receipt: { read_at: string | null; acked_at: string | null } | null
  created_at: string
}

export interface NoticePublish {
  grid: number
  kind: NoticeKind
  audience: NoticeAudience
  title: string
  body: string
  requires_ack: boolean
  publish_at: string | null
  expires_at: string | null
  client_key: string
}

export interface AckBody {
  client_uuid: string
  acked_at: string
}

export interface AckResult {
  read_at: string | null
  acked_at: string | null
  replayed: boolean
}

export interface ChasePending {
  user: number
  name: string
  role: string
  read_at: string | null
}

export interface ChaseGrid {
  grid: number
  grid_name: string
  grid_code: string
  total: number
  read: number
  acked: number
  pending: ChasePending[]
}

export interface Chase {
  notice: number
  requires_ack: boolean
  total: number
  read: number
  acked: number
  pending: number
  grids: ChaseGrid[]
}

export interface PublicNotice {
  id: number
  grid_name: string
  kind: NoticeKind
  title: string
  body: string
  published_at: string
  expires_at: string | null
  attachments: NoticeAttachment[]
}

export interface Board {
  grid: { name: string; level: string }
  community: { name: string; board_token: string }
  notices: PublicNotice[]
}

export interface NoticeFilters {
  mine?: boolean
  current?: boolean
  kind?: NoticeKind
  state?: NoticeState
  within?: number
}

const enc = encodeURIComponent

export const noticesApi = {
  list: (f: NoticeFilters = {}) => http.get<Page<Notice>>('notices/', { ...f }),
  more: (next: string) => http.get<Page<Notice>>(next),
  get: (id: number) => http.get<Notice>(`notices/${id}/`),
  publish: (body: NoticePublish) => http.post<Notice>('notices/', body),
  read: (id: number) => http.post<Notice>(`notices/${id}/read/`),
  ack: (id: number, body: AckBody) => http.post<AckResult>(`notices/${id}/ack/`, body),
  chase: (id: number) => http.get<Chase>(`notices/${id}/chase/`),
  withdraw: (id: number) => http.post<Notice>(`notices/${id}/withdraw/`),
  attach(id: number, file: Blob, filename: string) {
    const form = new FormData()
    form.append('file', file, filename)
    return http.upload<NoticeAttachment>(`notices/${id}/attachments/`, form)
  },
  board: (token: string) => http.get<Board>(`public/notices/${enc(token)}/`),
}
