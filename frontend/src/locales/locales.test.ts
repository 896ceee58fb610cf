import { describe, expect, it } from 'vitest'
import zhCN from './zh-CN'
import en from './en'

function keys(obj: Record<string, unknown>, prefix = ''): string[] {
  return Object.entries(obj).flatMap(([k, v]) =>
    v && typeof v === 'object' ? keys(v as Record<string, unknown>, `${prefix}${k}.`) : [`${prefix}${k}`],
  )
}

function placeholders(s: string) {
  return [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort()
}

describe('locales', () => {
  it('zh-CN and en have exactly the same keys', () => {
    expect(keys(en).sort()).toEqual(keys(zhCN).sort())
  })

  it('no message is empty and placeholders match', () => {
    const get = (o: unknown, path: string) => path.split('.').reduce((a: any, k) => a[k], o) as string
    for (const k of keys(zhCN)) {
      const zh = get(zhCN, k)
      const e = get(en, k)
      expect(zh.trim(), k).not.toBe('')
      expect(e.trim(), k).not.toBe('')
      expect(placeholders(e), k).toEqual(placeholders(zh))
    }
  })
})
