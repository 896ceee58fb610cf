// The 12345 hotline link (12345 热线对接): the console's list of hotline tickets and their callbacks (issue 11).
export default {
  hotline: {
    menu: '12345 工单',
    title: '12345 热线工单',
    hint: '热线平台推送的工单及每个环节回传给热线的状态：已送达、等待重试或失败。',
    ticket: '热线工单号',
    case: '事件',
    status: '事件状态',
    grid: '网格',
    receivedAt: '接收时间',
    address: '地址',
    callbacks: '状态回传',
    empty: '暂无热线工单',
    attempts: '已尝试 {n} 次',
    stages: {
      accepted: '受理',
      replied: '答复',
      resolved: '办结',
      closed: '结案',
      rating: '评价',
    },
    states: {
      pending: '等待发送',
      sending: '发送中',
      sent: '已送达',
      failed: '发送失败',
    },
  },
}
