import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import { buildCategoryTree, categoriesApi, flattenCategoryTree, type Category } from '@/api/categories'

export const useCategoriesStore = defineStore('categories', () => {
  const list = ref<Category[]>([])
  const loaded = ref(false)
  const tree = computed(() => buildCategoryTree(list.value))
  const flat = computed(() => flattenCategoryTree(tree.value))

  async function ensure() {
    if (loaded.value) return
    list.value = await categoriesApi.list()
    loaded.value = true
  }

  /** Vant Cascader options. */
  const cascaderOptions = computed(() => {
    type Opt = { text: string; value: number; children?: Opt[] }
    const toOpt = (n: (typeof tree.value)[number]): Opt => ({
      text: n.name,
      value: n.id,
      children: n.children.length ? n.children.map(toOpt) : undefined,
    })
    return tree.value.map(toOpt)
  })

  function name(id: number | null | undefined) {
    return list.value.find((c) => c.id === id)?.name ?? ''
  }

  return { list, loaded, tree, flat, cascaderOptions, ensure, name }
})
