/// <reference types="vite/client" />
import 'vue-router'

declare module 'vue-router' {
  interface RouteMeta {
    /** Reachable without signing in. */
    public?: boolean
    /** Title key in the locale files. */
    titleKey?: string
  }
}

declare module 'vue-router' {
  interface RouteMeta {
    hideTabbar?: boolean
  }
}
