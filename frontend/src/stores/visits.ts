import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import { visitsApi, type Round, type RoundStop } from '@/api/visits'
import { fresh } from '@/offline/cache'
import { shanghaiDate } from '@/utils/time'

const DONE_KEY = 'gridcase.visitedToday'

function readJson<T>(key: string): T | null {
  try {
    const raw = localStorage.getItem(key)
    return raw ? (JSON.parse(raw) as T) : null
  } catch {
    return null
  }
}
function writeJson(key: string, value: unknown) {
  try {
    localStorage.setItem(key, JSON.stringify(value))
  } catch {
    /* cache only */
  }
}

/**
 * Today's round, one stop per resident, kept on the phone (IndexedDB) so it opens with no signal, and the
 * residents visited on this phone today (sent or still queued) so progress counts them before the server does.
 */
export const useVisitsStore = defineStore('visits', () => {
  const round = ref<Round | null>(null)
  const stale = ref(false)
  const savedAt = ref<number | null>(null)
  const doneDate = ref<string | null>(readJson<{ date: string }>(DONE_KEY)?.date ?? null)
  const doneToday = ref<number[]>(readJson<{ ids: number[] }>(DONE_KEY)?.ids ?? [])

  /** Loads the day's round from the server, or the copy kept on the phone when there is no signal. */
  async function load(date = shanghaiDate()) {
    const r = await fresh(`round:${date}`, () => visitsApi.round(date))
    round.value = r.value
    stale.value = r.stale
    savedAt.value = r.savedAt
    if (doneDate.value !== date) {
      doneDate.value = date
      doneToday.value = []
      writeJson(DONE_KEY, { date, ids: [] })
    }
    return r.value
  }

  function stop(resident: number): RoundStop | null {
    return round.value?.results.find((s) => s.resident === resident) ?? null
  }

  function markVisited(date: string, resident: number) {
    if (doneDate.value !== date) {
      doneDate.value = date
      doneToday.value = []
    }
    if (!doneToday.value.includes(resident)) doneToday.value = [...doneToday.value, resident]
    writeJson(DONE_KEY, { date, ids: doneToday.value })
  }

  const stops = computed(() => round.value?.results ?? [])

  return { round, stops, stale, savedAt, doneToday, load, stop, markVisited }
})
