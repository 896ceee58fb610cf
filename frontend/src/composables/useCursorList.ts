import { ref, shallowRef } from 'vue'
import type { Page } from '@/api/types'
import { errorMessage } from '@/utils/errors'

/**
 * A cursor-paginated list for "load more" (Vant List or a button): first page from `first`,
 * then follows the server's `next` link with `more`.
 */
export function useCursorList<T>(first: () => Promise<Page<T>>, more: (next: string) => Promise<Page<T>>) {
  const items = shallowRef<T[]>([])
  const next = ref<string | null>(null)
  const loading = ref(false)
  const finished = ref(false)
  const error = ref<string | null>(null)
  let generation = 0

  async function reload() {
    const gen = ++generation
    items.value = []
    next.value = null
    finished.value = false
    error.value = null
    loading.value = true
    try {
      const page = await first()
      if (gen !== generation) return
      items.value = page.results
      next.value = page.next
      finished.value = !page.next
    } catch (e) {
      if (gen !== generation) return
      error.value = errorMessage(e)
      finished.value = false
    } finally {
      if (gen === generation) loading.value = false
    }
  }

  async function loadMore() {
    if (!next.value) {
      if (!items.value.length && !error.value) return reload()
      finished.value = true
      loading.value = false
      return
    }
    const gen = generation
    loading.value = true
    error.value = null
    try {
      const page = await more(next.value)
      if (gen !== generation) return
      items.value = [...items.value, ...page.results]
      next.value = page.next
      finished.value = !page.next
    } catch (e) {
      if (gen === generation) error.value = errorMessage(e)
    } finally {
      if (gen === generation) loading.value = false
    }
  }

  function replace(pred: (t: T) => boolean, value: T) {
    items.value = items.value.map((t) => (pred(t) ? value : t))
  }

  return { items, next, loading, finished, error, reload, loadMore, replace }
}
