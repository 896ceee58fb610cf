import { createI18n } from 'vue-i18n'
import { Locale as VantLocale } from 'vant'
import vantZhCN from 'vant/es/locale/lang/zh-CN'
import vantEnUS from 'vant/es/locale/lang/en-US'
import zhCN, { type MessageSchema } from './zh-CN'
import en from './en'
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

export const i18n = createI18n<[MessageSchema], AppLocale, false>({
  legacy: false,
  locale: storedLocale(),
  fallbackLocale: 'zh-CN',
  messages: { 'zh-CN': zhCN, en },
})

export function currentLocale(): AppLocale {
  return i18n.global.locale.value
}

function applyLocale(locale: AppLocale) {
  if (locale === 'en') VantLocale.use('en-US', vantEnUS)
  else VantLocale.use('zh-CN', vantZhCN)
  if (typeof document !== 'undefined') document.documentElement.lang = locale
}

/** Switches the app's and Vant's language together and remembers the choice. */
export function setLocale(locale: AppLocale) {
  i18n.global.locale.value = locale
  applyLocale(locale)
  try {
    localStorage.setItem(STORAGE_KEY, locale)
  } catch {
    /* not persisted: still switched for this session */
  }
}

applyLocale(currentLocale())
setLanguageProvider(currentLocale)
