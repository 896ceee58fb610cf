import { ensureCsrf, http } from './http'
import type { Me } from './types'

export interface LoginResult {
  user: Me
  token: string
}

export const authApi = {
  csrf: ensureCsrf,
  async login(username: string, password: string): Promise<LoginResult> {
    await ensureCsrf()
    return http.post<LoginResult>('auth/login/', { username, password })
  },
  logout: () => http.post<void>('auth/logout/'),
  me: () => http.get<Me>('me/'),
}
