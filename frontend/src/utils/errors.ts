import { ApiError, NetworkError } from '@/api/http'
import { i18n } from '@/locales'

/** The text to show for a failed request: the server's own message when it gave one. */
export function errorMessage(e: unknown): string {
  const t = i18n.global.t
  if (e instanceof ApiError) {
    if (e.message) return e.message
    if (e.isConflict) return t('error.conflict')
    if (e.status === 403) return t('error.forbidden')
    if (e.status === 404) return t('error.notFound')
    return t('error.unknown')
  }
  if (e instanceof NetworkError) return t('error.network')
  return t('error.unknown')
}

export function isOfflineError(e: unknown): boolean {
  return e instanceof NetworkError || (e instanceof ApiError && e.isTransient)
}
