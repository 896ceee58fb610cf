// The worker pages as an older worker sees them, measured: the smallest text, the smallest tap target and
// axe-core's critical/serious findings on each page at 360×640, in normal and in large mode (长辈版).
// Against a running GridCase with the demo city (`gridcase seed demo`):
//   BASE_URL=http://127.0.0.1:8000 WORKER=micro0102 node scripts/worker-check.mjs [screenshot dir]
// Prints one line per page and mode and a summary; screenshots of every page land in the folder. Exits 1 when a
// page has a tap target under 44 px (normal mode) or 60 px (large mode), or text under 18 px in large mode.
// Needs Debian's chromium at /usr/bin/chromium (never `playwright install`).
import { chromium } from 'playwright-core'
import { mkdirSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
const BASE = process.env.BASE_URL ?? 'http://127.0.0.1:8000'
const USER = process.env.WORKER ?? 'micro0102'
const PASSWORD = process.env.PASSWORD ?? 'gridcase123'
const OUT = process.argv[2] ?? '/tmp/gridcase-worker'
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium'
mkdirSync(OUT, { recursive: true })
const AXE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8')

// Runs in the page: the smallest rendered text and tap target among visible elements.
function measure() {
  const visible = (el) => {
    const r = el.getBoundingClientRect()
    if (r.width < 1 || r.height < 1) return false
    for (let e = el; e; e = e.parentElement) {
      const s = getComputedStyle(e)
      if (s.display === 'none' || s.visibility === 'hidden' || Number(s.opacity) === 0) return false
    }
    return true
  }
  const describe = (el) => `${el.tagName.toLowerCase()}${el.className && typeof el.className === 'string' ? '.' + el.className.trim().split(/\s+/).slice(0, 2).join('.') : ''} "${(el.textContent || el.getAttribute('aria-label') || '').trim().slice(0, 20)}"`
  let font = { size: Infinity, what: '' }
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT)
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    if (!n.textContent.trim()) continue
    const el = n.parentElement
    if (!el || !visible(el) || el.closest('[aria-hidden="true"]')) continue
    const size = parseFloat(getComputedStyle(el).fontSize)
    if (size < font.size) font = { size, what: describe(el) }
  }
  for (const el of document.querySelectorAll('input:not([type=hidden]), textarea, select')) {
    if (el.type === 'file' || !visible(el)) continue
    const size = parseFloat(getComputedStyle(el).fontSize)
    if (size < font.size) font = { size, what: describe(el) }
  }
  const TAPPABLE = 'a[href], button, input:not([type=hidden]):not([type=file]), select, textarea, [role=button], [role=switch], ' +
    '[role=radio], [role=checkbox], [role=tab], [role=link], .van-uploader__upload, .van-cell--clickable'
  let tap = { height: Infinity, what: '' }
  for (const el of document.querySelectorAll(TAPPABLE)) {
    if (!visible(el)) continue
    // A control inside a larger clickable row (a radio's icon in its label) is reached through the row.
    const h = el.getBoundingClientRect().height
    if (h < tap.height) tap = { height: h, what: describe(el) }
  }
  return { font, tap, mains: document.querySelectorAll('main, [role=main]').length, h1: document.querySelectorAll('h1').length }
}

async function audit(page) {
  await page.addScriptTag({ content: AXE })
  return page.evaluate(async () => {
    // eslint-disable-next-line no-undef
    const r = await axe.run(document, { resultTypes: ['violations'] })
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.length, target: v.nodes[0]?.target?.join(' ') }))
  })
}

const browser = await chromium.launch({
  executablePath: CHROMIUM,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync'],
})
const context = await browser.newContext({ viewport: { width: 360, height: 640 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true, baseURL: BASE, bypassCSP: true })
const page = await context.newPage()
page.setDefaultTimeout(60000)
await page.goto('/login')
await page.waitForSelector('[data-test=login-submit]')
await page.fill('input[autocomplete=username]', USER)
await page.fill('input[autocomplete=current-password]', PASSWORD)
await page.click('[data-test=login-submit]')
await page.waitForURL(/\/m\//, { waitUntil: 'commit' })
await page.waitForSelector('[data-test=round-progress]')
await page.click('[data-test=round-row]')
await page.waitForURL(/\/m\/residents\//)
const firstResident = page.url().split('/').pop()

const pages = [
  ['round', '/m/round', '[data-test=round-progress]'],
  ['resident', `/m/residents/${firstResident}`, '[data-test=profile-visit]'],
  ['visit', `/m/visit/${firstResident}`, '[data-test=visit-submit]'],
  ['report', '/m/report', 'form'],
  ['cases', '/m/cases', '.van-nav-bar'],
  ['inbox', '/m/inbox', '.van-nav-bar'],
  ['me', '/m/me', '.van-nav-bar'],
  ['patrol', '/m/patrol', '.van-nav-bar'],
]
const rows = []
for (const mode of ['normal', 'large']) {
  await page.evaluate((m) => {
    localStorage.setItem('gridcase.large', m === 'large' ? '1' : '0')
    localStorage.setItem('gridcase.largeBannerSeen', '1')
  }, mode)
  for (const [name, url, ready] of pages) {
    await page.goto(url)
    await page.waitForSelector(ready)
    await page.waitForTimeout(400)
    const m = await page.evaluate(measure)
    const violations = await audit(page)
    const bad = violations.filter((v) => v.impact === 'critical' || v.impact === 'serious')
    await page.screenshot({ path: `${OUT}/${name}-${mode}.png` })
    rows.push({ mode, name, ...m, critical: bad.filter((v) => v.impact === 'critical').length, serious: bad.filter((v) => v.impact === 'serious').length, bad })
    console.log(`${mode.padEnd(6)} ${name.padEnd(8)} min font ${m.font.size}px (${m.font.what}) · min tap ${m.tap.height.toFixed(1)}px (${m.tap.what}) · main ${m.mains} h1 ${m.h1} · axe critical ${rows.at(-1).critical} serious ${rows.at(-1).serious}${bad.length ? ' ' + JSON.stringify(bad) : ''}`)
  }
}
// The first-run invitation: its share of the screen.
await page.evaluate(() => {
  localStorage.setItem('gridcase.large', '0')
  localStorage.removeItem('gridcase.largeBannerSeen')
})
await page.goto('/m/round')
await page.waitForSelector('[data-test=round-progress]')
const banner = await page.evaluate(() => {
  const el = document.querySelector('[data-test=large-banner]')
  return el ? el.getBoundingClientRect().height / window.innerHeight : 0
})
await page.screenshot({ path: `${OUT}/round-banner.png` })
const large = rows.filter((r) => r.mode === 'large')
console.log('---')
console.log(`large mode: min font ${Math.min(...large.map((r) => r.font.size))}px, min tap ${Math.min(...large.map((r) => r.tap.height)).toFixed(1)}px`)
console.log(`normal mode: min font ${Math.min(...rows.filter((r) => r.mode === 'normal').map((r) => r.font.size))}px, min tap ${Math.min(...rows.filter((r) => r.mode === 'normal').map((r) => r.tap.height)).toFixed(1)}px`)
console.log(`axe critical ${rows.reduce((a, r) => a + r.critical, 0)}, serious ${rows.reduce((a, r) => a + r.serious, 0)} over ${rows.length} page views`)
console.log(`large-mode invitation: ${(banner * 100).toFixed(1)}% of the screen height`)
console.log(`screenshots in ${OUT}`)
await browser.close()
// The floors (issue 10): every tap target 44 px in normal mode and 60 px in large mode; 18 px text in large mode.
const FLOOR = { normal: { tap: 44 }, large: { tap: 60, font: 18 } }
const failures = rows.filter((r) => r.tap.height < FLOOR[r.mode].tap - 0.5 || (FLOOR[r.mode].font && r.font.size < FLOOR[r.mode].font))
for (const r of failures) console.error(`BELOW THE FLOOR: ${r.mode} ${r.name}: tap ${r.tap.height.toFixed(1)}px (${r.tap.what}), font ${r.font.size}px (${r.font.what})`)
if (failures.length) process.exitCode = 1
