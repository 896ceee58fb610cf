import type zhCN from './zh-CN'

export default {
  reports: {
    nav: 'Monthly report',
    export: {
      button: 'Export',
      saved: 'Downloaded {name}',
      reveal: 'Phone and ID numbers in clear (where your role allows; audited)',
    },
    job: {
      pending: 'Queued',
      running: 'Generating',
      done: 'Ready',
      failed: 'Failed; please try again',
      download: 'Download {name}',
      progress: 'Progress',
      count: '{done} / {total}',
    },
    monthly: {
      title: 'Monthly report',
      intro: 'Choose an area and a month to generate a printable report (PDF): the rates and their change, the child grids ranked, departments’ response to whistles, categories, hotspots, visit coverage and overdue items.',
      node: 'Area',
      month: 'Month',
      generate: 'Generate',
      contents: {
        rates: 'Key figures and their change on the previous month',
        ranking: 'Child grids ranked (with case volumes)',
        departments: 'Departments’ response to whistles',
        categories: 'Top categories',
        hotspots: 'Hotspots (recurring problems)',
        coverage: 'Visit coverage of key populations',
        overdue: 'Overdue items',
      },
    },
  },
} satisfies typeof zhCN
