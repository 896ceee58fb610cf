import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import { authApi } from '@/api/auth'
import { ApiError } from '@/api/http'
import type { Home, Me } from '@/api/types'

const ME_KEY = 'gridcase.me'

function cachedMe(): Me | null {
  try {
    const raw = localStorage.getItem(ME_KEY)
    return raw ? (JSON.parse(raw) as Me) : null
  } catch {
    return null
  }
}

/** This phone was signed in when last used (its profile is kept): the router fetches the screen's code early. */
export function wasSignedIn(): boolean {
  return cachedMe() !== null
}

function cacheMe(me: Me | null) {
  try {
    if (me) localStorage.setItem(ME_KEY, JSON.stringify(me))
    else localStorage.removeItem(ME_KEY)
  } catch {
    /* not cached: the app then needs the network to start */
  }
}

export function homePath(home: Home | undefined): string {
  if (home === 'console') return '/console/cases'
  if (home === 'department') return '/dept'
  if (home === 'lead') return '/lead'
  return '/m/round'
}

export const useSessionStore = defineStore('session', () => {
  const me = ref<Me | null>(null)
  const loaded = ref(false)
  /** The profile came from the device cache because the server could not be reached. */
  const fromCache = ref(false)

  const home = computed(() => homePath(me.value?.home))
  /** The grid a worker reports in and visits: the first grid they hold a role on. */
  const primaryGrid = computed(() => me.value?.roles[0] ?? null)

  async function load(): Promise<Me | null> {
    try {
      me.value = await authApi.me()
      fromCache.value = false
      cacheMe(me.value)
    } catch (e) {
      if (e instanceof ApiError && !e.isTransient) {
        me.value = null
        cacheMe(null)
      } else {
        // Offline or server briefly down: keep working with the last known profile (a worker in a stairwell).
        me.value = cachedMe()
        fromCache.value = me.value !== null
      }
    }
    loaded.value = true
    return me.value
  }

  async function ensureLoaded() {
    if (!loaded.value) await load()
    return me.value
  }

  async function login(username: string, password: string) {
    const res = await authApi.login(username, password)
    me.value = res.user
    fromCache.value = false
    loaded.value = true
    cacheMe(res.user)
    return res.user
  }

  async function logout() {
    try {
      await authApi.logout()
    } finally {
      me.value = null
      cacheMe(null)
    }
  }

  function signedOut() {
    me.value = null
    cacheMe(null)
  }

  return { me, loaded, fromCache, home, primaryGrid, load, ensureLoaded, login, logout, signedOut }
})
