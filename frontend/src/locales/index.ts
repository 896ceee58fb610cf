import { createI18n } from 'vue-i18n'
import { Locale as VantLocale } from 'vant'
import vantZhCN from 'vant/es/locale/lang/zh-CN'
import zhCN, { type MessageSchema } from './zh-CN'
import { setLanguageProvider } from '@/api/http'

export type AppLocale = 'zh-CN' | 'en'
export const LOCALES: AppLocale[] = ['zh-CN', 'en']
const STORAGE_KEY = 'gridcase.locale'

function storedLocale(): AppLocale {
  try {
    const v = localStorage.getItem(STORAGE_KEY)
    if (v === 'en' || v === 'zh-CN') return v
  } catch {
    /* storage may be blocked (private mode): fall back to the default */
  }
  return 'zh-CN'
}

// Only zh-CN is part of the first screen's download: English (the app's and Vant's) is a chunk of its own,
// loaded when chosen (setLocale) or, for a phone that chose it before, before the app mounts (`localeReady`).
export const i18n = createI18n<[MessageSchema], AppLocale, false>({
  legacy: false,
  locale: 'zh-CN',
  fallbackLocale: 'zh-CN',
  messages: { 'zh-CN': zhCN } as Record<AppLocale, MessageSchema>,
})
let vantEnUS: Record<string, unknown> | null = null

async function loadMessages(locale: AppLocale) {
  if (locale !== 'en' || vantEnUS) return
  const [en, vant] = await Promise.all([import('./en'), import('vant/es/locale/lang/en-US')])
  i18n.global.setLocaleMessage('en', en.default)
  vantEnUS = vant.default
}

export function currentLocale(): AppLocale {
  return i18n.global.locale.value
}

function applyLocale(locale: AppLocale) {
  if (locale === 'en' && vantEnUS) VantLocale.use('en-US', vantEnUS)
  else VantLocale.use('zh-CN', vantZhCN)
  if (typeof document !== 'undefined') document.documentElement.lang = locale
}

/** Switches the app's and Vant's language together (once its messages are loaded) and remembers the choice.
 *  Stays in the current language when English cannot be loaded (no signal and never loaded before). */
export async function setLocale(locale: AppLocale) {
  await loadMessages(locale)
  i18n.global.locale.value = locale
  applyLocale(locale)
  try {
    localStorage.setItem(STORAGE_KEY, locale)
  } catch {
    /* not persisted: still switched for this session */
  }
}

applyLocale('zh-CN')
setLanguageProvider(currentLocale)

/** The language this phone chose before, ready (main.ts mounts the app after it; zh-CN is ready at once). */
export const localeReady: Promise<void> =
  storedLocale() === 'en'
    ? loadMessages('en').then(
        () => {
          i18n.global.locale.value = 'en'
          applyLocale('en')
        },
        () => undefined, // English did not load: the app opens in zh-CN
      )
    : Promise.resolve()
