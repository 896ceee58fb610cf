/** All times are shown in China Standard Time, whatever the device's own zone. */
export const TIME_ZONE = 'Asia/Shanghai'

const cache = new Map<string, Intl.DateTimeFormat>()
function fmt(locale: string, opts: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  const key = locale + JSON.stringify(opts)
  let f = cache.get(key)
  if (!f) {
    f = new Intl.DateTimeFormat(locale, { timeZone: TIME_ZONE, ...opts })
    cache.set(key, f)
  }
  return f
}

export function formatDateTime(iso: string | null | undefined, locale = 'zh-CN'): string {
  if (!iso) return '—'
  const d = new Date(iso)
  if (Number.isNaN(d.getTime())) return iso
  return fmt(locale, {
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    hour12: false,
  }).format(d)
}

export function formatDate(iso: string | null | undefined, locale = 'zh-CN'): string {
  if (!iso) return '—'
  const d = new Date(iso.length === 10 ? `${iso}T00:00:00+08:00` : iso)
  if (Number.isNaN(d.getTime())) return iso
  return fmt(locale, { year: 'numeric', month: '2-digit', day: '2-digit' }).format(d)
}

/** YYYY-MM-DD of the given instant in Shanghai (the API's `date` parameters). */
export function shanghaiDate(d: Date = new Date()): string {
  const parts = fmt('en-CA', { year: 'numeric', month: '2-digit', day: '2-digit' }).formatToParts(d)
  const get = (t: string) => parts.find((p) => p.type === t)?.value ?? ''
  return `${get('year')}-${get('month')}-${get('day')}`
}

export function addDays(date: string, days: number): string {
  const d = new Date(`${date}T12:00:00+08:00`)
  d.setUTCDate(d.getUTCDate() + days)
  return shanghaiDate(d)
}

/** A value for <input type="datetime-local"> in Shanghai time, hours from now. */
export function shanghaiLocalInput(hoursFromNow = 0): string {
  const d = new Date(Date.now() + hoursFromNow * 3600_000)
  const parts = fmt('en-CA', {
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    hour12: false,
  }).formatToParts(d)
  const get = (t: string) => parts.find((p) => p.type === t)?.value ?? ''
  const hour = get('hour') === '24' ? '00' : get('hour')
  return `${get('year')}-${get('month')}-${get('day')}T${hour}:${get('minute')}`
}

/** Reads a datetime-local value as Shanghai time and returns ISO 8601 with offset. */
export function fromShanghaiLocalInput(value: string): string {
  return `${value.length === 16 ? value + ':00' : value}+08:00`
}
