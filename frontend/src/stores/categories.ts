import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import { currentLocale } from '@/locales'
import { fresh } from '@/offline/cache'
import { buildCategoryTree, categoriesApi, flattenCategoryTree, type Category, type ResponseTemplate } from '@/api/categories'

export const useCategoriesStore = defineStore('categories', () => {
  const list = ref<Category[]>([])
  const loaded = ref(false)
  const templates = ref<ResponseTemplate[]>([])
  /** True when the list came from the phone's copy (no signal). */
  const stale = ref(false)
  const tree = computed(() => buildCategoryTree(list.value))
  const flat = computed(() => flattenCategoryTree(tree.value))

  /** Loads the categories (again when `force`, or when the last list came from the phone's copy). */
  async function ensure(force = false) {
    if (loaded.value && !stale.value && !force) return
    // Kept on the phone: a report can be written (and queued) with no signal after the app was reopened.
    const [r, replies] = await Promise.all([
      fresh('categories', () => categoriesApi.list()),
      // The reply templates too (常用回复), so a note can be written from one with no signal.
      fresh('templates', () => categoriesApi.templates()).catch(() => null),
    ])
    list.value = r.value
    stale.value = r.stale
    if (replies) templates.value = replies.value
    loaded.value = true
  }

  /** Templates for a case of `category` (its own, its parents' and general ones) at one of `statuses`
   *  (and those for any status), in the server's order. */
  function templatesFor(category: number | null | undefined, statuses: string[]): ResponseTemplate[] {
    const lineage = new Set<number>()
    for (let c = list.value.find((x) => x.id === category); c && !lineage.has(c.id); c = list.value.find((x) => x.id === c!.parent)) {
      lineage.add(c.id)
    }
    return templates.value.filter(
      (tpl) => (tpl.category === null || lineage.has(tpl.category)) && (tpl.status === '' || statuses.includes(tpl.status)),
    )
  }

  /** Vant Cascader options. */
  const cascaderOptions = computed(() => {
    type Opt = { text: string; value: number; children?: Opt[] }
    const toOpt = (n: (typeof tree.value)[number]): Opt => ({
      text: label(n),
      value: n.id,
      children: n.children.length ? n.children.map(toOpt) : undefined,
    })
    return tree.value.map(toOpt)
  })

  /** The English name when the app is in English and the server has one. */
  function label(c: Category) {
    return currentLocale() === 'en' && c.name_en ? c.name_en : c.name
  }

  function name(id: number | null | undefined) {
    const c = list.value.find((x) => x.id === id)
    return c ? label(c) : ''
  }

  return { list, loaded, stale, tree, flat, cascaderOptions, templates, ensure, name, label, templatesFor }
})
