import { describe, expect, it } from 'vitest'
import { exifOrientation, fitWithin } from './photo'

/** A minimal JPEG header with an EXIF orientation tag (little- or big-endian TIFF). */
function jpegWithOrientation(o: number, little = true): Blob {
  const u16 = (v: number) => (little ? [v & 0xff, v >> 8] : [v >> 8, v & 0xff])
  const u32 = (v: number) => (little ? [v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff, v >>> 24] : [v >>> 24, (v >> 16) & 0xff, (v >> 8) & 0xff, v & 0xff])
  const tiff = [...(little ? [0x49, 0x49] : [0x4d, 0x4d]), ...u16(42), ...u32(8), ...u16(1), ...u16(0x0112), ...u16(3), ...u32(1), ...u16(o), 0, 0, ...u32(0)]
  const body = [0x45, 0x78, 0x69, 0x66, 0, 0, ...tiff]
  const len = body.length + 2
  return new Blob([new Uint8Array([0xff, 0xd8, 0xff, 0xe1, len >> 8, len & 0xff, ...body, 0xff, 0xd9])], { type: 'image/jpeg' })
}

describe('photo compression maths', () => {
  it('scales the longest side to 1600 px and never enlarges', () => {
    expect(fitWithin(4000, 3000)).toEqual({ w: 1600, h: 1200 })
    expect(fitWithin(3000, 4000)).toEqual({ w: 1200, h: 1600 })
    expect(fitWithin(800, 600)).toEqual({ w: 800, h: 600 })
  })

  it('reads the EXIF orientation in either byte order, 1 when absent', async () => {
    expect(await exifOrientation(jpegWithOrientation(6))).toBe(6)
    expect(await exifOrientation(jpegWithOrientation(8, false))).toBe(8)
    expect(await exifOrientation(new Blob([new Uint8Array([0xff, 0xd8, 0xff, 0xd9])]))).toBe(1)
    expect(await exifOrientation(new Blob(['not a jpeg']))).toBe(1)
  })
})
