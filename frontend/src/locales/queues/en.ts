import type zhCN from './zh-CN'

const en: typeof zhCN = {
  queues: {
    menu: 'Queues',
    title: 'Work queues',
    hint: 'Each tab’s number is the number of cases in its list.',
    tabs: {
      new: 'New reports',
      sla: 'Red / yellow SLA',
      verification: 'Waiting for verification',
      report_in: 'Whistled, not reported in',
    },
    countFailed: 'Could not load the counts',
  },
}

export default en
