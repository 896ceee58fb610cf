import { http } from './http'
import type { Page } from './types'

export interface Category {
  id: number
  code: string
  name: string
  parent: number | null
  name_en?: string
  [extra: string]: unknown
}

export interface CategoryNode extends Category {
  depth: number
  children: CategoryNode[]
}

function unwrap<T>(data: Page<T> | T[]): T[] {
  return Array.isArray(data) ? data : data.results
}

/** Orders a flat category list as a tree (parents before children) with depths, for pickers. */
export function buildCategoryTree(list: Category[]): CategoryNode[] {
  const nodes = new Map<number, CategoryNode>()
  for (const c of list) nodes.set(c.id, { ...c, depth: 0, children: [] })
  const roots: CategoryNode[] = []
  for (const n of nodes.values()) {
    const parent = n.parent != null ? nodes.get(n.parent) : undefined
    if (parent) parent.children.push(n)
    else roots.push(n)
  }
  const setDepth = (n: CategoryNode, d: number) => {
    n.depth = d
    n.children.forEach((c) => setDepth(c, d + 1))
  }
  roots.forEach((r) => setDepth(r, 0))
  return roots
}

export function flattenCategoryTree(roots: CategoryNode[]): CategoryNode[] {
  const out: CategoryNode[] = []
  const walk = (n: CategoryNode) => {
    out.push(n)
    n.children.forEach(walk)
  }
  roots.forEach(walk)
  return out
}

/** A canned reply (常用回复) for a category (null: any) and case status ('' : any). */
export interface ResponseTemplate {
  id: number
  category: number | null
  status: string
  title: string
  body: string
  sort: number
}

export const categoriesApi = {
  /** Every reply template (a few dozen): kept on the phone with the categories and filtered there. */
  templates(): Promise<ResponseTemplate[]> {
    return http.get<ResponseTemplate[]>('response-templates/')
  },
  async list(): Promise<Category[]> {
    const data = await http.get<Page<Category> | Category[]>('categories/')
    const all = unwrap(data)
    // The category list is small; follow cursor pages if the server paginates it.
    let next = Array.isArray(data) ? null : data.next
    while (next) {
      const page = await http.get<Page<Category>>(next)
      all.push(...page.results)
      next = page.next
    }
    return all
  },
}
