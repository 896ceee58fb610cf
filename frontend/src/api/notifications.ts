import { http } from './http'
import type { Page } from './types'

export interface Notification {
  id: number
  kind: string
  title: string
  body: string
  case: number | null
  created_at: string
  read_at: string | null
}

export const notificationsApi = {
  list: () => http.get<Page<Notification>>('notifications/'),
  more: (next: string) => http.get<Page<Notification>>(next),
  read: (id: number) => http.post<Notification | void>(`notifications/${id}/read/`),
  readAll: () => http.post<void>('notifications/read-all/'),
}
