import type zhCN from './zh-CN'

const en: typeof zhCN = {
  patrol: {
    menu: 'Patrol log',
    title: 'Patrol log',
    entry: 'New entry',
    grid: 'Grid',
    building: 'Check in at',
    noBuilding: 'No building',
    note: 'What you saw',
    notePlaceholder: 'What did you see: clutter in a stairwell, a broken street light, a resident’s request…',
    photo: 'Add a photo',
    location: 'Record my location',
    locationFailed: 'Could not get the location; you can save without it.',
    save: 'Save entry',
    saved: 'Saved',
    queued: 'Saved on the phone; it goes up when there is signal.',
    waiting: '{n} entries waiting to upload',
    today: 'Today’s patrol',
    empty: 'No patrol entries today yet.',
    toCase: 'Report as case',
    reported: 'Reported as a case',
    reportPending: 'Case waiting to upload',
    openCase: 'Open case',
    offline: 'You are offline: connect to report this as a case.',
    missing: 'Write what you saw, or choose the building you checked in at.',
    count: '{n} entries',
    // Console
    hint: 'The grid workers’ daily walks: where they checked in, what they saw, and the cases reported from it.',
    date: 'Date',
    worker: 'Worker',
    allWorkers: 'All workers',
    time: 'Time',
    place: 'Place',
    case: 'Case',
    noEntries: 'No patrol entries on this day.',
    onMap: 'Location',
  },
}

export default en
