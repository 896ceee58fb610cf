import { afterEach, describe, expect, it, vi } from 'vitest'
import 'fake-indexeddb/auto'
import { createPinia, setActivePinia } from 'pinia'
import { useCategoriesStore } from './categories'

function json(body: unknown) {
  return new Response(JSON.stringify(body), { status: 200, headers: { 'Content-Type': 'application/json' } })
}

const CATEGORIES = [
  { id: 1, code: 'safety', name: '安全隐患', parent: null },
  { id: 2, code: 'safety_wiring', name: '飞线充电', parent: 1 },
  { id: 3, code: 'env', name: '环境卫生', parent: null },
]
const TEMPLATES = [
  { id: 10, category: 2, status: 'in_progress', title: '飞线整改', body: '已告知住户…', sort: 0 },
  { id: 11, category: 1, status: 'resolved', title: '隐患已消除', body: '隐患已消除。', sort: 1 },
  { id: 12, category: null, status: '', title: '已联系', body: '已联系居民。', sort: 2 },
  { id: 13, category: 3, status: 'resolved', title: '楼道清理完毕', body: '…', sort: 3 },
]

describe('categories store: reply templates', () => {
  afterEach(() => vi.unstubAllGlobals())

  it('keeps the reply templates with the categories and gives them back with no signal', async () => {
    vi.stubGlobal('fetch', vi.fn(async (url: string) => json(String(url).includes('response-templates') ? TEMPLATES : CATEGORIES)))
    setActivePinia(createPinia())
    const online = useCategoriesStore()
    await online.ensure()
    expect(online.templatesFor(2, ['in_progress']).map((t) => t.id)).toEqual([10, 12])
    // A child category gets its parents' templates; another category's never.
    expect(online.templatesFor(2, ['in_progress', 'resolved']).map((t) => t.id)).toEqual([10, 11, 12])
    expect(online.templatesFor(3, ['resolved']).map((t) => t.id)).toEqual([12, 13])

    vi.stubGlobal('fetch', vi.fn(async () => {
      throw new TypeError('Failed to fetch')
    }))
    setActivePinia(createPinia())
    const offline = useCategoriesStore()
    await offline.ensure()
    expect(offline.stale).toBe(true)
    expect(offline.templatesFor(2, ['in_progress']).map((t) => t.title)).toEqual(['飞线整改', '已联系'])
  })
})
