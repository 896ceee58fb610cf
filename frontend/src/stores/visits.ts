import { defineStore } from 'pinia'
import { ref } from 'vue'
import type { DueVisit } from '@/api/visits'

const ROUND_KEY = 'gridcase.round'
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
 * Today's round, cached on the device so a worker can open it without signal, and the residents
 * already visited today (sent or queued) so the list shows progress.
 */
export const useVisitsStore = defineStore('visits', () => {
  const doneDate = ref<string | null>(readJson<{ date: string }>(DONE_KEY)?.date ?? null)
  const doneToday = ref<number[]>(readJson<{ ids: number[] }>(DONE_KEY)?.ids ?? [])

  function cacheRound(date: string, due: DueVisit[]) {
    writeJson(ROUND_KEY, { date, due })
    if (doneDate.value !== date) {
      doneDate.value = date
      doneToday.value = []
      writeJson(DONE_KEY, { date, ids: [] })
    }
  }

  function cachedRound(date: string): DueVisit[] | null {
    const c = readJson<{ date: string; due: DueVisit[] }>(ROUND_KEY)
    return c && c.date === date ? c.due : null
  }

  function markVisited(date: string, resident: number) {
    if (doneDate.value !== date) {
      doneDate.value = date
      doneToday.value = []
    }
    if (!doneToday.value.includes(resident)) doneToday.value = [...doneToday.value, resident]
    writeJson(DONE_KEY, { date, ids: doneToday.value })
  }

  return { doneToday, cacheRound, cachedRound, markVisited }
})
