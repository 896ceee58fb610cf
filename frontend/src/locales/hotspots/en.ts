import type zhCN from './zh-CN'

const en: typeof zhCN = {
  hotspots: {
    menu: 'Hotspots',
    title: 'Hotspots (act before residents complain)',
    hint: 'The same problem again and again in one building, micro-grid or spot, or rising this week. Open one preventive case before residents have to complain again.',
    panel: 'Hotspots',
    all: 'See all',
    empty: 'No hotspots',
    kinds: {
      building: 'Same building',
      micro_grid: 'Same micro-grid',
      nearby: 'Nearby',
      rising: 'Rising week over week',
    },
    statuses: {
      open: 'Open',
      handled: 'Case opened',
      dismissed: 'Dismissed',
    },
    filters: {
      status: 'Status',
      all: 'All',
      current: 'Still recurring only',
    },
    fields: {
      category: 'Category',
      place: 'Place',
      kind: 'Kind',
      count: 'Times',
      lastSeen: 'Latest',
      status: 'Status',
      cases: 'Its cases',
      window: 'Period',
      preventive: 'Preventive case',
    },
    countIn: '{count} times in {days} days',
    rising: '{count} this week, {before} the week before',
    within: ' (within {metres} m)',
    ended: 'No longer recurring',
    openCase: 'Open a preventive case',
    opening: 'Opening…',
    opened: 'Preventive case {number} opened',
    dismiss: 'Dismiss',
    back: 'Back to hotspots',
  },
}

export default en
