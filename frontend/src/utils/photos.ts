/**
 * Photos compressed on the phone before they are sent (weak signal in stairwells, large camera files): drawn on a
 * canvas at most `maxSide` pixels on the longer side and encoded as JPEG. Shared by the residents' pages and, when
 * it wants it, the worker app. Falls back to the original file where the browser cannot decode it.
 */
export interface CompressOptions {
  maxSide?: number
  quality?: number
  /** JPEGs already within `maxSide` and smaller than this are sent as they are. */
  keepBelowBytes?: number
}

function loadImage(file: Blob): Promise<HTMLImageElement> {
  return new Promise((resolve, reject) => {
    const url = URL.createObjectURL(file)
    const img = new Image()
    img.onload = () => {
      URL.revokeObjectURL(url)
      resolve(img)
    }
    img.onerror = (e) => {
      URL.revokeObjectURL(url)
      reject(e)
    }
    img.src = url
  })
}

export async function compressPhoto(file: Blob, opts: CompressOptions = {}): Promise<Blob> {
  const { maxSide = 1600, quality = 0.8, keepBelowBytes = 200 * 1024 } = opts
  let img: HTMLImageElement
  try {
    img = await loadImage(file)
  } catch {
    return file // not decodable here (e.g. HEIC on an old WebView): the server decides
  }
  const longest = Math.max(img.naturalWidth || 1, img.naturalHeight || 1)
  if (longest <= maxSide && file.size <= keepBelowBytes && file.type === 'image/jpeg') return file
  const scale = Math.min(1, maxSide / longest)
  const w = Math.max(1, Math.round(img.naturalWidth * scale))
  const h = Math.max(1, Math.round(img.naturalHeight * scale))
  const canvas = document.createElement('canvas')
  canvas.width = w
  canvas.height = h
  const ctx = canvas.getContext('2d')
  if (!ctx) return file
  ctx.fillStyle = '#fff' // transparent PNGs become white, not black
  ctx.fillRect(0, 0, w, h)
  ctx.drawImage(img, 0, 0, w, h)
  const blob = await new Promise<Blob | null>((resolve) => canvas.toBlob(resolve, 'image/jpeg', quality))
  return blob && (blob.size < file.size || longest > maxSide) ? blob : file
}
