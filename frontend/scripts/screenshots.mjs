// Screenshots of the built app in headless Chromium, with the API mocked in the browser.
// Usage: npx vite preview --port 4173 &  then  node scripts/screenshots.mjs [outdir]
// Needs Debian's chromium at /usr/bin/chromium (never `playwright install`).
import { chromium } from 'playwright-core'
import { mkdirSync } from 'node:fs'

const BASE = process.env.PREVIEW_URL ?? 'http://127.0.0.1:4173'
const OUT = process.argv[2] ?? '/tmp/gridcase-shots'
mkdirSync(OUT, { recursive: true })

const now = new Date().toISOString()
const worker = {
  id: 1, username: 'wang', display_name: '王秀兰', primary_role: 'micro_grid_worker', home: 'mobile', departments: [],
  roles: [{ grid: 11, grid_code: 'CH-FQL-BLZ-G03-M07', grid_name: '第三网格七号微网格', grid_level: 'micro_grid', role: 'micro_grid_worker' }],
}
const secretary = { ...worker, id: 2, username: 'li', display_name: '李书记', primary_role: 'secretary', home: 'console',
  roles: [{ grid: 3, grid_code: 'CH-FQL-BLZ', grid_name: '八里庄社区', grid_level: 'community', role: 'secretary' }] }
const officer = { ...worker, id: 3, username: 'zhao', display_name: '赵科长', primary_role: null, home: 'department', roles: [],
  departments: [{ id: 4, name: '城管执法队' }] }
const kase = {
  id: 7, number: '2026-BLZ-000123', title: '3栋2单元楼道堆放杂物', description: '楼道堆放纸箱和旧家具，影响消防通道。',
  category: 5, category_name: '楼道杂物', grid: 11, grid_name: '第三网格七号微网格', owner_grid: 11, owner_grid_name: '第三网格七号微网格',
  scope: 'building', priority: 'normal', source: 'patrol', status: 'in_progress', assignee: 1, assignee_name: '王秀兰', departments: [],
  location: null, version: 4, deadlines: { accept_by: now, handle_by: now, verify_by: null }, sla_state: 'yellow',
  allowed_actions: ['resolve', 'escalate', 'request_extension'], created_at: now, updated_at: now,
}
const cases = [kase, { ...kase, id: 8, number: '2026-BLZ-000124', title: '电动车楼内充电', status: 'reported', sla_state: 'red' },
  { ...kase, id: 9, number: '2026-BLZ-000101', title: '下水道堵塞', status: 'closed', sla_state: 'ok' }]

function api(me) {
  const list = me.home === 'department'
    ? cases.slice(0, 2).map((c, i) => ({ ...c, departments: [{ id: 4, name: '城管执法队' }], allowed_actions: i === 0 ? ['report_in'] : ['reply'] }))
    : cases
  return {
    'me/': me,
    'visits/due/': [
      { resident: 101, resident_name: '张桂兰', household_label: '3-2-301', building: '3栋', unit: '2单元', tags: [{ code: 'alone', name: '独居老人' }], kind: 'home', due_on: '2026-11-28', overdue_days: 2, care_plan: 1 },
      { resident: 102, resident_name: '刘德明', household_label: '3-2-502', building: '3栋', unit: '2单元', tags: [{ code: 'disabled', name: '残疾' }], kind: 'phone', due_on: '2026-11-28', overdue_days: 0, care_plan: 2 },
      { resident: 103, resident_name: '陈阿姨', household_label: '4-1-101', building: '4栋', unit: '1单元', tags: [{ code: 'alone', name: '独居老人' }, { code: 'low', name: '低保' }], kind: 'home', due_on: '2026-11-28', overdue_days: 0, care_plan: 3 },
    ],
    'residents/101/': { id: 101, name: '张桂兰', gender: 'F', birth_date: '1941-03-02', age: 85, phone: '13812345678', id_number: '1101**********1234', phone_masked: false, household: 5, household_label: '3栋2单元301', grid: 11, grid_name: '第三网格七号微网格', tags: [] },
    'cases/': { next: null, previous: null, results: list },
    'visits/': { next: null, previous: null, results: [
      { id: 51, client_uuid: 'x', resident: 101, kind: 'phone', visited_at: now, wellbeing: 'attention', findings: '腿脚不便，需要助餐', needs: ['meals'] },
    ] },
    'cases/7/': kase,
    'cases/7/events/': { next: null, previous: null, results: [
      { id: 1, action: 'accept', actor_name: '李书记', created_at: now, comment: '' },
      { id: 2, action: 'assign', actor_name: '李书记', created_at: now, comment: '请今天处理' },
      { id: 3, action: 'start', actor_name: '王秀兰', created_at: now },
    ] },
    'categories/': [{ id: 1, code: 'env', name: '环境卫生', parent: null }, { id: 5, code: 'env.clutter', name: '楼道杂物', parent: 1 }],
    'notifications/': { next: null, previous: null, results: [
      { id: 1, kind: 'assigned', title: '新派遣事件', body: '3栋2单元楼道堆放杂物', case: 7, created_at: now, read_at: null },
      { id: 2, kind: 'sla', title: '即将超时', body: '电动车楼内充电 还有 2 小时', case: 8, created_at: now, read_at: now },
    ] },
    'stats/summary/': { total: 128, response_rate: 0.96, resolution_rate: 0.88, satisfaction_rate: 0.92, on_time_rate: 0.81, median_hours_to_resolve: 19.5, escalation_rate: 0.07, resolved_in_micro_grid_rate: 0.64, by_status: {} },
    'stats/timeseries/': { points: Array.from({ length: 30 }, (_, i) => ({ date: `2026-11-${String(i + 1).padStart(2, '0')}`, value: 3 + ((i * 7) % 5) })) },
    'stats/grid-ranking/': { results: [1, 2, 3, 4, 5].map((i) => ({ grid: i, grid_name: `第${i}网格`, total: 20 + i, on_time_rate: 0.6 + i * 0.07, satisfaction_rate: 0.9 })) },
    // stats/departments/ deliberately missing: the panel must say "No data".
    'stats/visit-coverage/': { overall: 0.83, by_tag: [{ tag: 'alone', tag_name: '独居老人', rate: 0.91 }, { tag: 'disabled', tag_name: '残疾', rate: 0.78 }, { tag: 'low', tag_name: '低保', rate: 0.66 }], by_grid: [] },
  }
}

const posted = []
async function withMocks(page, me) {
  const data = api(me)
  await page.route('**/api/v1/**', async (route) => {
    const path = new URL(route.request().url()).pathname.replace('/api/v1/', '')
    if (route.request().method() === 'POST' && path === 'visits/') {
      posted.push(JSON.parse(route.request().postData() ?? '{}'))
      return route.fulfill({ status: 201, json: { id: posted.length, ...posted.at(-1) } })
    }
    if (path in data) return route.fulfill({ json: data[path] })
    return route.fulfill({ status: 404, json: { code: 'not_found', message: '未找到' } })
  })
}

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
})
const shots = []
async function shot(name, { width = 360, height = 640, me = null, path = '/static/', before, large = false, fullPage = false, locale } = {}) {
  const ctx = await browser.newContext({ viewport: { width, height }, deviceScaleFactor: 1, locale: 'zh-CN' })
  const page = await ctx.newPage()
  const errors = []
  page.on('pageerror', (e) => errors.push(String(e)))
  if (me) await withMocks(page, me)
  await page.addInitScript(([large, locale]) => {
    if (large) localStorage.setItem('gridcase.large', '1')
    if (locale) localStorage.setItem('gridcase.locale', locale)
  }, [large, locale])
  await page.goto(BASE + path)
  await page.waitForLoadState('networkidle')
  if (before) await before(page)
  await page.waitForTimeout(400)
  const file = `${OUT}/${name}.png`
  await page.screenshot({ path: file, fullPage })
  shots.push(file)
  if (errors.length) console.log(name, 'page errors:', errors)
  await ctx.close()
}

await shot('login-360')
await shot('login-360-large', { large: true })
await shot('login-360-en', { locale: 'en' })
await shot('login-error-360', {
  before: async (page) => {
    await page.route('**/api/v1/auth/**', (r) => r.fulfill({ status: 429, json: { code: 'throttled', message: '登录尝试过多，请 5 分钟后再试' } }))
    await page.fill('input[name=username]', 'wang')
    await page.fill('input[name=password]', 'x')
    await page.click('[data-test=login-submit]')
    await page.waitForSelector('[data-test=login-error]')
  },
})
await shot('m-round-360', { me: worker })
await shot('m-round-360-large', { me: worker, large: true })
await shot('m-visit-360', { me: worker, path: '/static/', fullPage: true, before: async (p) => { await p.click('text=张桂兰'); await p.waitForSelector('.wb-btn'); await p.click('.wb-btn--attention') } })
await shot('m-case-360', { me: worker, fullPage: true, before: async (p) => { await p.click('text=事件'); await p.click('text=3栋2单元楼道堆放杂物'); await p.waitForSelector('.case-detail__title') } })
await shot('m-me-360', { me: worker, fullPage: true, before: async (p) => { await p.click('.van-tabbar-item >> nth=4'); await p.waitForSelector('.me__name') } })
await shot('m-inbox-360', { me: worker, before: async (p) => { await p.click('.van-tabbar-item >> nth=3'); await p.waitForSelector('.note') } })
await shot('c-cases-1280', { me: secretary, width: 1280, height: 800 })
await shot('c-dashboard-1280', { me: secretary, width: 1280, height: 800, fullPage: true, before: async (p) => { await p.click('text=数据看板'); await p.waitForSelector('canvas'); await p.waitForTimeout(800) } })
await shot('m-report-360', { me: worker, fullPage: true, before: async (p) => { await p.click('.van-tabbar-item >> nth=2'); await p.waitForSelector('textarea'); await p.click('input[placeholder="请选择分类"]'); await p.waitForSelector('.van-cascader'); await p.click('.van-cascader__option >> text=环境卫生'); await p.click('.van-cascader__option >> text=楼道杂物'); await p.fill('input[placeholder="一句话说明问题"]', '楼道堆放杂物') } })
await shot('m-round-360-en', { me: worker, locale: 'en' })
await shot('m-action-360', { me: worker, before: async (p) => { await p.click('text=事件'); await p.click('text=3栋2单元楼道堆放杂物'); await p.click('button:has-text("办结")'); await p.waitForSelector('.action-form') } })
await shot('m-case-360-large', { me: worker, large: true, before: async (p) => { await p.click('text=事件'); await p.click('text=3栋2单元楼道堆放杂物'); await p.waitForSelector('.case-detail__title') } })
await shot('d-home-360', { me: { ...officer }, before: async (p) => { await p.waitForSelector('.dept-case') } })
await shot('c-case-1280', { me: secretary, width: 1280, height: 800, before: async (p) => { await p.click('text=3栋2单元楼道堆放杂物'); await p.waitForSelector('.case-detail__title') } })

// Offline: a visit is kept on the device, shown as waiting, and sent when the network returns.
await shot('m-offline-queued-360', {
  me: worker,
  fullPage: true,
  before: async (p) => {
    await p.context().setOffline(true)
    await p.click('text=张桂兰')
    await p.waitForSelector('.wb-btn')
    await p.click('.wb-btn--good')
    await p.click('[data-test=visit-submit]')
    await p.waitForSelector('text=已保存，等待网络')
    await p.click('.van-tabbar-item >> nth=4')
    await p.waitForSelector('.queue__item')
  },
})
await shot('m-offline-synced-360', {
  me: worker,
  fullPage: true,
  before: async (p) => {
    await p.context().setOffline(true)
    await p.click('text=张桂兰')
    await p.waitForSelector('.wb-btn')
    await p.click('.wb-btn--urgent')
    await p.click('[data-test=visit-submit]')
    await p.waitForSelector('text=已保存，等待网络')
    await p.context().setOffline(false)
    await p.waitForFunction(() => !document.querySelector('.van-notice-bar'))
    await p.click('.van-tabbar-item >> nth=4')
    await p.waitForSelector('text=没有待发送的内容')
  },
})
console.log('visits POSTed after reconnect:', posted.map((v) => `${v.client_uuid} ${v.wellbeing}`).join(', '))
await browser.close()
console.log(shots.join('\n'))
