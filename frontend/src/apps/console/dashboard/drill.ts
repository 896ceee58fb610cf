import type { RouteLocationRaw } from 'vue-router'

/**
 * A dashboard figure's drill-down: the server gives the API URL of the list behind the figure (cases, or care plans
 * for visit coverage); the console opens its own list page with the same filters as the route's query, and that
 * page asks the API with exactly those filters (and `with_count`), so the list shows the figure's count.
 */
const PAGES: Record<string, string> = {
  '/api/v1/cases/': 'c-cases',
  '/api/v1/care-plans/': 'c-care-plans',
}

export function drillRoute(url: string | null | undefined, label = ''): RouteLocationRaw | null {
  if (!url) return null
  const parsed = new URL(url, 'http://local')
  const name = PAGES[parsed.pathname]
  if (!name) return null
  const query: Record<string, string> = {}
  parsed.searchParams.forEach((value, key) => {
    query[key] = value
  })
  if (label) query.drill = label
  return { name, query }
}

/** The API filters of a drilled list page: the route's query without the page's own keys. */
export function drillFilters(query: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [key, value] of Object.entries(query)) {
    if (key === 'drill' || typeof value !== 'string' || value === '') continue
    out[key] = value
  }
  return out
}

/** ▲ / ▼ / = against the previous period, and whether the change is good news for this figure. */
export function trend(
  value: number | null | undefined,
  previous: number | null | undefined,
  higherIsBetter: boolean | null = true,
): { arrow: '▲' | '▼' | '='; good: boolean | null; delta: number } | null {
  if (typeof value !== 'number' || typeof previous !== 'number') return null
  const delta = value - previous
  if (Math.abs(delta) < 1e-9) return { arrow: '=', good: null, delta: 0 }
  return { arrow: delta > 0 ? '▲' : '▼', good: higherIsBetter === null ? null : delta > 0 === higherIsBetter, delta }
}
