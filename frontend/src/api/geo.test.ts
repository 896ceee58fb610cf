import { describe, expect, it } from 'vitest'
import { polygonToRing, ringToPolygon } from './geo'

describe('boundary rings', () => {
  it('turns a [lat, lng] ring into a closed GeoJSON polygon and back', () => {
    const ring: [number, number][] = [
      [30.66, 104.1],
      [30.66, 104.101],
      [30.661, 104.101],
    ]
    const polygon = ringToPolygon(ring)
    expect(polygon.coordinates[0]).toEqual([
      [104.1, 30.66],
      [104.101, 30.66],
      [104.101, 30.661],
      [104.1, 30.66],
    ])
    expect(polygonToRing(polygon)).toEqual(ring)
  })

  it('reads the outer ring of a multipolygon and nothing of a missing boundary', () => {
    expect(polygonToRing({ type: 'MultiPolygon', coordinates: [[[[1, 2], [3, 4], [5, 6], [1, 2]]]] })).toEqual([
      [2, 1],
      [4, 3],
      [6, 5],
    ])
    expect(polygonToRing(null)).toEqual([])
  })
})
