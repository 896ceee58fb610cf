import { describe, expect, it } from 'vitest'
import zhBase from './zh-CN'
import { consoleZhCN } from './console'

const zhCN = { ...zhBase, ...consoleZhCN }
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

describe('setLocale', () => {
  it("switches Vant's own locale, the request language and <html lang> with the app's, and remembers it", async () => {
    const { Locale } = await import('vant')
    const { setLocale, currentLocale } = await import('./index')
    await setLocale('en')
    expect(currentLocale()).toBe('en')
    expect(Locale.messages().confirm).toBe('Confirm')
    expect(document.documentElement.lang).toBe('en')
    expect(localStorage.getItem('gridcase.locale')).toBe('en')
    await setLocale('zh-CN')
    expect(Locale.messages().confirm).toBe('确认')
    expect(document.documentElement.lang).toBe('zh-CN')
  })
})
