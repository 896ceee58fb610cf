import { defineStore } from 'pinia'
import { computed, ref, watch } from 'vue'
import { i18n, setLocale, type AppLocale } from '@/locales'

const LARGE_KEY = 'gridcase.large'
const BANNER_KEY = 'gridcase.largeBannerSeen'

function read(key: string): string | null {
  try {
    return localStorage.getItem(key)
  } catch {
    return null
  }
}
function write(key: string, value: string) {
  try {
    localStorage.setItem(key, value)
  } catch {
    /* storage blocked: the choice lasts for this session only */
  }
}

/** Language and 长辈版 (large mode), persisted in localStorage. */
export const usePrefsStore = defineStore('prefs', () => {
  // The language in use: English switches once its messages have loaded (a chunk of their own).
  const locale = computed<AppLocale>(() => i18n.global.locale.value)
  const large = ref(read(LARGE_KEY) === '1')
  const largeBannerSeen = ref(read(BANNER_KEY) === '1')

  function applyLarge(on: boolean) {
    if (typeof document !== 'undefined') document.documentElement.classList.toggle('large-mode', on)
  }
  applyLarge(large.value)

  watch(large, (on) => {
    applyLarge(on)
    write(LARGE_KEY, on ? '1' : '0')
  })

  function setLanguage(l: AppLocale) {
    return setLocale(l)
  }

  function dismissLargeBanner(turnOn = false) {
    if (turnOn) large.value = true
    largeBannerSeen.value = true
    write(BANNER_KEY, '1')
  }

  return { locale, large, largeBannerSeen, setLanguage, dismissLargeBanner }
})
