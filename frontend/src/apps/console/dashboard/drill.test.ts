import { describe, expect, it } from 'vitest'
import { drillFilters, drillRoute, trend } from './drill'

describe('drill-downs', () => {
  it('opens the console page of the API list with the same filters', () => {
    const to = drillRoute('/api/v1/cases/?within=3&created_after=2026-03-01T00%3A00%3A00%2B08%3A00&status=resolved%2Cclosed&as_of=x&in_figures=true', '解决率')
    expect(to).toEqual({
      name: 'c-cases',
      query: { within: '3', created_after: '2026-03-01T00:00:00+08:00', status: 'resolved,closed', as_of: 'x', in_figures: 'true', drill: '解决率' },
    })
    expect(drillRoute('/api/v1/care-plans/?coverage=late&within=2')).toEqual({ name: 'c-care-plans', query: { coverage: 'late', within: '2' } })
    expect(drillRoute('/api/v1/unknown/?a=1')).toBeNull()
    expect(drillRoute(undefined)).toBeNull()
  })

  it('gives the list page the API filters without its own keys', () => {
    expect(drillFilters({ within: '3', drill: '总数', empty: '', list: ['a'] })).toEqual({ within: '3' })
  })

  it('says whether a change is good news for the figure', () => {
    expect(trend(0.9, 0.8, true)).toMatchObject({ arrow: '▲', good: true })
    expect(trend(0.2, 0.1, false)).toMatchObject({ arrow: '▲', good: false })
    expect(trend(5, 9, null)).toMatchObject({ arrow: '▼', good: null })
    expect(trend(0.5, 0.5)).toMatchObject({ arrow: '=', good: null })
    expect(trend(null, 0.5)).toBeNull()
    expect(trend(0.5, undefined)).toBeNull()
  })
})
