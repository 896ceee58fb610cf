/** The grid map for any console screen: `<GridMap :grids :buildings :points … />` (points: hotspots, cases…). */
export { default as GridMap } from './GridMap.vue'
export { LEVELS, ORDER, type LevelStyle } from './levels'
export type { MapPoint } from '@/api/geo'
