import { ensureCsrf, http } from './http'
import type { Me } from './types'

export interface LoginResult {
  user: Me
  /** For integrations; the web app uses its session. Ends at logout, password change or `token_expiry`. */
  token: string
  token_expiry: string
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
