import { http } from './http'
import type { Page } from './types'

export interface UserRef {
  id: number
  username: string
  display_name: string
}

export interface Department {
  id: number
  name: string
}

function unwrap<T>(data: Page<T> | T[]): T[] {
  return Array.isArray(data) ? data : data.results
}

export const organisationApi = {
  async users(within?: number): Promise<UserRef[]> {
    return unwrap(await http.get<Page<UserRef> | UserRef[]>('users/', { within }))
  },
  async departments(): Promise<Department[]> {
    return unwrap(await http.get<Page<Department> | Department[]>('departments/'))
  },
}
