// The secretary's queues (待办队列): each tab a case-list filter with its count (issue 12).
export default {
  queues: {
    menu: '待办队列',
    title: '待办队列',
    hint: '每个标签页的数字就是其下列表的条数。',
    tabs: {
      new: '新上报',
      sla: '红黄牌',
      verification: '待核查',
      report_in: '吹哨未报到',
    },
    countFailed: '数量加载失败',
  },
}
