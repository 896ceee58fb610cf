// Exports and the monthly report (issue 12, items 3 and 4).
export default {
  reports: {
    nav: '月报',
    export: {
      button: '导出',
      saved: '已下载 {name}',
      reveal: '导出明文电话和身份证号（按角色权限，留痕）',
    },
    job: {
      pending: '排队中',
      running: '正在生成',
      done: '已生成',
      failed: '生成失败，请重试',
      download: '下载 {name}',
      progress: '进度',
      count: '{done} / {total}',
    },
    monthly: {
      title: '月报',
      intro: '选择范围和月份，生成可打印的月报（PDF）：各项指标及环比、下级网格排名、部门应哨、事件分类、热点、走访覆盖和超期事项。',
      node: '范围',
      month: '月份',
      generate: '生成月报',
      contents: {
        rates: '主要指标及与上月比较',
        ranking: '下级网格排名（含件数）',
        departments: '职能部门应哨情况',
        categories: '事件分类前列',
        hotspots: '热点（反复发生的问题）',
        coverage: '重点人群走访覆盖',
        overdue: '超期事项',
      },
    },
  },
}
