/** The map's style per grid level (also its legend). */
export interface LevelStyle {
  color: string
  weight: number
  fill: number
  dash?: string
}

export const LEVELS: Record<string, LevelStyle> = {
  district: { color: '#4b5563', weight: 3, fill: 0, dash: '8 6' },
  street: { color: '#6b7280', weight: 3, fill: 0, dash: '6 4' },
  community: { color: '#1d4ed8', weight: 2.5, fill: 0.03 },
  grid: { color: '#7c3aed', weight: 2, fill: 0.04 },
  micro_grid: { color: '#047857', weight: 1.2, fill: 0.1 },
  dedicated: { color: '#b45309', weight: 1.5, fill: 0.08, dash: '3 3' },
}

/** Drawing order: micro-grids last, on top, so a click picks the smallest grid. */
export const ORDER = ['district', 'street', 'community', 'grid', 'dedicated', 'micro_grid']
