// Messages only the console's screens use (registry, moves and handover, 12345, drill-downs, queues, hotspots,
// map, reports). The console's layout merges them when it loads, so the worker app's first screen never
// downloads them (issue 10: the round under 150 KB gzipped). English has them in en.ts, loaded when chosen.
import { i18n } from './index'
import registry from './registry/zh-CN'
import moves from './moves/zh-CN'
import interop from './interop/zh-CN'
import drill from './drill/zh-CN'
import queues from './queues/zh-CN'
import hotspots from './hotspots/zh-CN'
import map from './map/zh-CN'
import reports from './reports/zh-CN'

export const consoleZhCN = { registry, ...moves, ...interop, ...drill, ...queues, ...hotspots, ...map, ...reports }

let merged = false

/** Adds the console's zh-CN messages (once). Called by the console's layout before its screens render. */
export function useConsoleMessages() {
  if (merged) return
  i18n.global.mergeLocaleMessage('zh-CN', consoleZhCN as never)
  merged = true
}
