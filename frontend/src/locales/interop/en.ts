import type zhCN from './zh-CN'

const en: typeof zhCN = {
  hotline: {
    menu: '12345 tickets',
    title: '12345 hotline tickets',
    hint: 'Tickets pushed by the hotline platform and the status sent back to it at each stage: delivered, waiting to retry or failed.',
    ticket: 'Hotline ticket',
    case: 'Case',
    status: 'Case status',
    grid: 'Grid',
    receivedAt: 'Received',
    address: 'Address',
    callbacks: 'Callbacks',
    empty: 'No hotline tickets yet',
    attempts: '{n} attempts',
    stages: {
      accepted: 'Accepted',
      replied: 'Replied',
      resolved: 'Resolved',
      closed: 'Closed',
      rating: 'Rating',
    },
    states: {
      pending: 'Waiting',
      sending: 'Sending',
      sent: 'Delivered',
      failed: 'Failed',
    },
  },
}

export default en
