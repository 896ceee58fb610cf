/**
 * Photos made to fit one bar of signal: decoded on the phone, turned upright by their EXIF orientation,
 * scaled so the longest side is at most 1600 px and re-encoded as JPEG at quality 0.8. The canvas writes no
 * EXIF at all, so the GPS position the camera stored never leaves the phone (a worker who wants the place
 * attaches her location on purpose, with the report's location switch).
 */

export const MAX_SIDE = 1600
export const QUALITY = 0.8

/** The EXIF orientation (1–8) of a JPEG, or 1 when there is none. Reads only the first 128 KB. */
export async function exifOrientation(file: Blob): Promise<number> {
  const buf = await file.slice(0, 128 * 1024).arrayBuffer()
  const v = new DataView(buf)
  if (v.byteLength < 4 || v.getUint16(0) !== 0xffd8) return 1
  let off = 2
  while (off + 4 <= v.byteLength) {
    const marker = v.getUint16(off)
    const size = v.getUint16(off + 2)
    if (marker === 0xffe1 && off + 10 <= v.byteLength && v.getUint32(off + 4) === 0x45786966) {
      const tiff = off + 10
      if (tiff + 8 > v.byteLength) return 1
      const little = v.getUint16(tiff) === 0x4949
      const first = v.getUint32(tiff + 4, little)
      const dir = tiff + first
      if (dir + 2 > v.byteLength) return 1
      const entries = v.getUint16(dir, little)
      for (let i = 0; i < entries; i++) {
        const e = dir + 2 + i * 12
        if (e + 12 > v.byteLength) return 1
        if (v.getUint16(e, little) === 0x0112) {
          const o = v.getUint16(e + 8, little)
          return o >= 1 && o <= 8 ? o : 1
        }
      }
      return 1
    }
    if ((marker & 0xff00) !== 0xff00 || marker === 0xffda) break
    off += 2 + size
  }
  return 1
}

/** Browsers since Chrome 81 / Safari 13.1 turn images upright themselves when decoding for <img>. */
function browserAppliesOrientation(): boolean {
  return typeof CSS !== 'undefined' && typeof CSS.supports === 'function' && CSS.supports('image-orientation', 'from-image')
}

function loadImage(file: Blob): Promise<HTMLImageElement> {
  return new Promise((resolve, reject) => {
    const url = URL.createObjectURL(file)
    const img = new Image()
    img.onload = () => {
      URL.revokeObjectURL(url)
      resolve(img)
    }
    img.onerror = () => {
      URL.revokeObjectURL(url)
      reject(new Error('not an image'))
    }
    img.src = url
  })
}

/** Width and height after scaling so the longest side is at most `max`. */
export function fitWithin(w: number, h: number, max = MAX_SIDE): { w: number; h: number } {
  const scale = Math.min(1, max / Math.max(w, h))
  return { w: Math.max(1, Math.round(w * scale)), h: Math.max(1, Math.round(h * scale)) }
}

export interface Compressed {
  blob: Blob
  width: number
  height: number
  originalBytes: number
}

/** Compresses a photo for upload. Falls back to the original file when the browser cannot decode it. */
export async function compressPhoto(file: Blob, max = MAX_SIDE, quality = QUALITY): Promise<Compressed> {
  let img: HTMLImageElement
  try {
    img = await loadImage(file)
  } catch {
    return { blob: file, width: 0, height: 0, originalBytes: file.size }
  }
  // Manual rotation only where the browser does not do it already (older WebViews).
  const orientation = browserAppliesOrientation() ? 1 : await exifOrientation(file)
  const swap = orientation >= 5
  const srcW = img.naturalWidth
  const srcH = img.naturalHeight
  const fit = fitWithin(srcW, srcH, max)
  const canvas = document.createElement('canvas')
  canvas.width = swap ? fit.h : fit.w
  canvas.height = swap ? fit.w : fit.h
  const ctx = canvas.getContext('2d')
  if (!ctx) return { blob: file, width: srcW, height: srcH, originalBytes: file.size }
  const { w, h } = fit
  // The standard EXIF transforms, drawing the stored pixels upright.
  switch (orientation) {
    case 2: ctx.setTransform(-1, 0, 0, 1, w, 0); break
    case 3: ctx.setTransform(-1, 0, 0, -1, w, h); break
    case 4: ctx.setTransform(1, 0, 0, -1, 0, h); break
    case 5: ctx.setTransform(0, 1, 1, 0, 0, 0); break
    case 6: ctx.setTransform(0, 1, -1, 0, h, 0); break
    case 7: ctx.setTransform(0, -1, -1, 0, h, w); break
    case 8: ctx.setTransform(0, -1, 1, 0, 0, w); break
    default: break
  }
  ctx.fillStyle = '#fff' // transparent PNGs become white, not black
  ctx.fillRect(0, 0, w, h)
  ctx.drawImage(img, 0, 0, w, h)
  const blob = await new Promise<Blob | null>((resolve) => canvas.toBlob(resolve, 'image/jpeg', quality))
  if (!blob) return { blob: file, width: srcW, height: srcH, originalBytes: file.size }
  // A photo already smaller than its re-encoding (and without anything to strip) is sent re-encoded anyway:
  // the original may carry GPS in its EXIF.
  return { blob, width: canvas.width, height: canvas.height, originalBytes: file.size }
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`
  if (n < 1024 * 1024) return `${Math.round(n / 1024)} KB`
  return `${(n / 1024 / 1024).toFixed(1)} MB`
}
