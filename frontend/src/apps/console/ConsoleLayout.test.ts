import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import { createMemoryHistory, createRouter } from 'vue-router'
import { i18n, setLocale } from '@/locales'
import ConsoleLayout from './ConsoleLayout.vue'

function json(status: number, body: unknown) {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } })
}

async function mountConsole() {
  const pinia = createPinia()
  setActivePinia(pinia)
  const router = createRouter({
    history: createMemoryHistory(),
    routes: [
      { path: '/console', component: ConsoleLayout, children: [{ path: 'cases', component: { template: '<p>cases</p>' } }] },
      { path: '/console/dashboard', component: { template: '<p>dashboard</p>' } },
      { path: '/login', name: 'login', component: { template: '<p>login</p>' } },
    ],
  })
  await router.push('/console/cases')
  await router.isReady()
  const wrapper = mount(ConsoleLayout, { global: { plugins: [pinia, i18n, router] } })
  await flushPromises()
  return wrapper
}

describe('ConsoleLayout system warnings', () => {
  let fetchMock: ReturnType<typeof vi.fn>
  beforeEach(() => {
    fetchMock = vi.fn()
    vi.stubGlobal('fetch', fetchMock)
    setLocale('zh-CN')
  })
  afterEach(() => {
    vi.unstubAllGlobals()
  })

  it('shows a banner when a year has no holiday calendar', async () => {
    fetchMock.mockResolvedValue(
      json(200, { warnings: [{ code: 'calendar_missing', years: [2027], message: 'No holiday calendar for 2027' }] }),
    )
    const wrapper = await mountConsole()
    expect(fetchMock.mock.calls[0][0]).toBe('/api/v1/system/status/')
    const banner = wrapper.find('[data-test="system-warnings"]')
    expect(banner.text()).toContain('尚未录入 2027 年的节假日安排')
    await setLocale('en')
    await flushPromises()
    expect(wrapper.find('[data-test="system-warnings"]').text()).toContain('No holiday calendar for 2027 yet')
  })

  it("shows the server's message for a warning it does not know, and nothing when all is well", async () => {
    fetchMock.mockResolvedValueOnce(json(200, { warnings: [{ code: 'other', message: '另一条提醒' }] }))
    expect((await mountConsole()).find('[data-test="system-warnings"]').text()).toContain('另一条提醒')
    fetchMock.mockResolvedValueOnce(json(200, { warnings: [] }))
    expect((await mountConsole()).find('[data-test="system-warnings"]').exists()).toBe(false)
    fetchMock.mockResolvedValueOnce(json(503, { code: 'unavailable', message: 'down' }))
    expect((await mountConsole()).find('[data-test="system-warnings"]').exists()).toBe(false)
  })
})
