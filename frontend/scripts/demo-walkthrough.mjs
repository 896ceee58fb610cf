// Walk through the built app against a real backend with the demo data (`manage.py seed demo`):
// wrong password, a worker's round, a visit, cases, a case report, the inbox; the secretary's console,
// dashboard and a case; a department officer's home. Screenshots go to OUT; API errors are printed.
//   GRIDCASE_BACKEND=http://127.0.0.1:8000 npx vite preview --port 4174 &
//   node scripts/demo-walkthrough.mjs http://127.0.0.1:4174 /tmp/gridcase-e2e
// It writes to the backend (one visit, one case): use a throwaway database.
import { chromium } from 'playwright-core'
import { mkdirSync } from 'node:fs'
const BASE = process.argv[2] ?? 'http://127.0.0.1:4174'
const OUT = process.argv[3] ?? '/tmp/gridcase-e2e'
mkdirSync(OUT, { recursive: true })
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'] })

async function session(user, { width = 360, height = 640 } = {}) {
  const ctx = await browser.newContext({ viewport: { width, height } })
  const page = await ctx.newPage()
  page.on('pageerror', (e) => console.log(user, 'pageerror', String(e)))
  page.on('response', (r) => { if (r.url().includes('/api/') && r.status() >= 400) console.log(user, r.status(), r.request().method(), r.url().replace(BASE, '')) })
  await page.addInitScript(() => localStorage.setItem('gridcase.largeBannerSeen', '1'))
  await page.goto(BASE + '/static/')
  await page.waitForSelector('input[name=username]')
  await page.fill('input[name=username]', user)
  await page.fill('input[name=password]', 'gridcase123')
  await page.click('[data-test=login-submit]')
  await page.waitForURL((u) => !u.pathname.startsWith('/login') && !u.pathname.startsWith('/static'))
  await page.waitForLoadState('networkidle')
  return page
}
const step = async (name, page) => { await page.waitForTimeout(500); await page.screenshot({ path: `${OUT}/${name}.png`, fullPage: true }); console.log('shot', name, page.url()) }

// wrong password first: server message
{
  const ctx = await browser.newContext({ viewport: { width: 360, height: 640 } })
  const page = await ctx.newPage()
  await page.goto(BASE + '/static/')
  await page.fill('input[name=username]', 'micro0101')
  await page.fill('input[name=password]', 'nope')
  await page.click('[data-test=login-submit]')
  await page.waitForSelector('[data-test=login-error]')
  console.log('login error text:', await page.textContent('[data-test=login-error]'))
  await ctx.close()
}

const w = await session('micro0101')
await step('w-round', w)
const firstStop = w.locator('.round__cell').first()
if (await firstStop.count()) {
  await firstStop.click()
  await w.waitForSelector('.wb-btn')
  await w.click('.wb-btn--good')
  await w.click('[data-test=visit-submit]')
  await w.waitForURL('**/m/round')
  await step('w-round-after-visit', w)
}
await w.click('.van-tabbar-item >> nth=1')
await w.waitForLoadState('networkidle')
await step('w-cases', w)
const anyCase = w.locator('.case-cell').first()
if (await anyCase.count()) {
  await anyCase.click()
  await w.waitForSelector('.case-detail__title')
  await step('w-case', w)
}
await w.click('.van-tabbar-item >> nth=2')
await w.waitForSelector('textarea')
await w.click('input[placeholder="请选择分类"]')
await w.waitForSelector('.van-cascader__option')
await w.locator('.van-cascader__option').first().click()
await w.waitForTimeout(300)
// Pick a leaf when the cascader moved on to the children.
if (await w.locator('.van-cascader').isVisible()) await w.locator('.van-cascader__options').last().locator('.van-cascader__option').first().click()
await w.fill('input[placeholder="一句话说明问题"]', '前端联调：楼道杂物')
await w.fill('textarea', '3号楼2单元楼道堆放纸箱')
await w.click('.van-button--primary.van-button--block')
await w.waitForSelector('.report__result, .gc-error', { timeout: 10000 }).catch(() => {})
await step('w-report', w)
await w.click('.van-tabbar-item >> nth=3')
await w.waitForLoadState('networkidle')
await step('w-inbox', w)
await w.close()

const s = await session('secretary', { width: 1280, height: 800 })
await step('s-cases', s)
await s.click('text=数据看板')
await s.waitForLoadState('networkidle')
await s.waitForSelector('canvas', { timeout: 20000 })
await s.waitForFunction(() => !document.querySelector('.dash__range .van-button--loading'), null, { timeout: 20000 })
await s.waitForTimeout(1000)
await step('s-dashboard', s)
await s.click('text=事件列表')
await s.waitForSelector('tbody tr')
await s.locator('tbody tr').first().click()
await s.waitForSelector('.case-detail__title')
await step('s-case', s)
await s.close()

const d = await session('police')
await step('d-home', d)
await d.close()
await browser.close()
