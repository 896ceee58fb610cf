/** Accounts and their roles on grids (users, memberships); the server decides who may manage whom. */
import { http, request } from './http'
import type { Page, RoleName } from './types'

export interface Account {
  id: number
  username: string
  display_name: string
  email: string
  is_active: boolean
  roles: { grid: number; grid_name: string; role: RoleName }[]
}

export interface Membership {
  id: number
  user: number
  username: string
  display_name: string
  grid: number
  grid_name: string
  role: RoleName
  title: string
}

export interface NewAccount {
  username: string
  display_name: string
  password: string
  grid: number
  role: RoleName
}

export const accountsApi = {
  users: (within?: number) => http.get<Page<Account>>('users/', { within, page_size: 100 }),
  more: <T>(next: string) => http.get<Page<T>>(next),
  create: (body: NewAccount) => http.post<Account>('users/', body),
  update: (id: number, body: Partial<Pick<Account, 'display_name' | 'is_active'>> & { password?: string }) =>
    http.patch<Account>(`users/${id}/`, body),
  memberships: (f: { within?: number; user?: number } = {}) =>
    http.get<Page<Membership>>('memberships/', { ...f, page_size: 100 }),
  grant: (body: { user: number; grid: number; role: RoleName; title?: string }) =>
    http.post<Membership>('memberships/', body),
  revoke: (id: number) => request<void>(`memberships/${id}/`, { method: 'DELETE' }),
}
