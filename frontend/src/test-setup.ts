// Vitest: screens are mounted without the console's layout, which merges the console's own messages in the app.
import { useConsoleMessages } from '@/locales/console'

useConsoleMessages()
