import { defineStore } from 'pinia'
import { ref } from 'vue'
import { casesApi, type ActionPayloads, type Case, type CaseAction, type CaseEvent } from '@/api/cases'
import { ApiError } from '@/api/http'

/** The case being looked at, its timeline, and its actions (always sent with the version we saw). */
export const useCaseDetailStore = defineStore('caseDetail', () => {
  const current = ref<Case | null>(null)
  const events = ref<CaseEvent[]>([])
  const eventsError = ref(false)

  async function load(id: number) {
    if (current.value?.id !== id) {
      current.value = null
      events.value = []
    }
    current.value = await casesApi.get(id)
    await loadEvents(id)
  }

  async function loadEvents(id: number) {
    try {
      const data = await casesApi.events(id)
      const all = Array.isArray(data) ? data : [...data.results]
      // Events are cursor-paginated oldest first: follow the pages (a timeline is short).
      let next = Array.isArray(data) ? null : data.next
      for (let guard = 0; next && guard < 20; guard++) {
        const page = await casesApi.eventsMore(next)
        all.push(...page.results)
        next = page.next
      }
      events.value = all
      eventsError.value = false
    } catch {
      eventsError.value = true
    }
  }

  /**
   * Runs an action. On a version conflict (409) the case is reloaded (from the error's `current` when
   * given) and the error is rethrown so the page can show the server's message.
   */
  async function act<A extends CaseAction>(action: A, payload: ActionPayloads[A]) {
    const c = current.value
    if (!c) return
    try {
      current.value = await casesApi.act(c.id, action, c.version, payload)
      await loadEvents(c.id)
    } catch (e) {
      if (e instanceof ApiError && e.isConflict) {
        const fresh = e.current as Case | undefined
        if (fresh && typeof fresh === 'object' && 'version' in fresh) current.value = fresh
        else current.value = await casesApi.get(c.id)
        await loadEvents(c.id)
      }
      throw e
    }
  }

  /** Runs an action on a case from a list (not the one in detail view); answers the updated case. */
  async function actOn<A extends CaseAction>(c: Case, action: A, payload: ActionPayloads[A]): Promise<Case> {
    const updated = await casesApi.act(c.id, action, c.version, payload)
    if (current.value?.id === c.id) current.value = updated
    return updated
  }

  return { current, events, eventsError, load, act, actOn }
})
