import { ref } from 'vue'
import { registryApi, type GridNode } from '@/api/registry'
import type { GridLevel } from '@/api/types'
import { useSessionStore } from '@/stores/session'

/** The grids of the caller's area at the given levels (their own grids and those below), for pickers. */
export function useMyGrids(levels: GridLevel[]) {
  const session = useSessionStore()
  const grids = ref<GridNode[]>([])
  async function load() {
    const roots = [...new Set((session.me?.roles ?? []).map((r) => r.grid))]
    const seen = new Map<number, GridNode>()
    for (const root of roots.slice(0, 5)) {
      const page = await registryApi.grids({ within: root, level: levels, page_size: 200 })
      for (const g of page.results) seen.set(g.id, g)
    }
    grids.value = [...seen.values()]
  }
  return { grids, load }
}

/** "第一网格 / 第一微网格": the node with its ancestors below the community, for a picker's label. */
export function gridLabel(g: GridNode): string {
  const path = g.path ?? []
  return [...path.slice(-2), g.name].join(' / ')
}
