import { describe, expect, it } from 'vitest'
import { reportQuery, type PatrolEntry } from './patrol'

const entry: PatrolEntry = {
  id: 7, client_uuid: 'u', worker: 3, worker_name: '王', grid: 12, grid_name: '第一微网格', building: 4,
  building_name: '1栋', at: '2026-12-02T01:00:00Z', on: '2026-12-02', lat: null, lng: null,
  note: '楼道堆放杂物', photo: null, reported: true, case_key: 'k', case: null, created_at: '2026-12-02T01:00:00Z',
}

describe('reportQuery', () => {
  it('prefills the report with the entry’s grid, place and words, and the key that links the case', () => {
    expect(reportQuery(entry, 'key-1')).toEqual({ key: 'key-1', grid: '12', description: '1栋：楼道堆放杂物', from: 'patrol' })
  })
  it('leaves the place out when no building was named', () => {
    expect(reportQuery({ ...entry, building: null, building_name: '' }, 'k').description).toBe('楼道堆放杂物')
  })
})
