import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import { currentLocale } from '@/locales'
import { fresh } from '@/offline/cache'
import { buildCategoryTree, categoriesApi, flattenCategoryTree, type Category } from '@/api/categories'

export const useCategoriesStore = defineStore('categories', () => {
  const list = ref<Category[]>([])
  const loaded = ref(false)
  /** True when the list came from the phone's copy (no signal). */
  const stale = ref(false)
  const tree = computed(() => buildCategoryTree(list.value))
  const flat = computed(() => flattenCategoryTree(tree.value))

  /** Loads the categories (again when `force`, or when the last list came from the phone's copy). */
  async function ensure(force = false) {
    if (loaded.value && !stale.value && !force) return
    // Kept on the phone: a report can be written (and queued) with no signal after the app was reopened.
    const r = await fresh('categories', () => categoriesApi.list())
    list.value = r.value
    stale.value = r.stale
    loaded.value = true
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

  return { list, loaded, stale, tree, flat, cascaderOptions, ensure, name, label }
})
