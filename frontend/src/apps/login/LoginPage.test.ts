import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import { createMemoryHistory, createRouter } from 'vue-router'
import { i18n, setLocale } from '@/locales'
import LoginPage from './LoginPage.vue'

function json(status: number, body: unknown) {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } })
}

async function mountLogin() {
  const pinia = createPinia()
  setActivePinia(pinia)
  const router = createRouter({
    history: createMemoryHistory(),
    routes: [
      { path: '/login', name: 'login', component: LoginPage },
      { path: '/m/round', component: { template: '<p>round</p>' } },
      { path: '/console/cases', component: { template: '<p>console</p>' } },
    ],
  })
  await router.push('/login')
  await router.isReady()
  const wrapper = mount(LoginPage, { global: { plugins: [pinia, i18n, router] }, attachTo: document.body })
  return { wrapper, router }
}

describe('LoginPage', () => {
  let fetchMock: ReturnType<typeof vi.fn>
  beforeEach(() => {
    document.cookie = 'csrftoken=tok; path=/'
    fetchMock = vi.fn()
    vi.stubGlobal('fetch', fetchMock)
    setLocale('zh-CN')
  })
  afterEach(() => {
    vi.unstubAllGlobals()
    document.body.innerHTML = ''
  })

  it('shows the server message when login is throttled (429)', async () => {
    fetchMock.mockResolvedValue(json(429, { code: 'throttled', message: '登录尝试过多，请 5 分钟后再试' }))
    const { wrapper } = await mountLogin()
    await wrapper.find('input[name="username"]').setValue('wang')
    await wrapper.find('input[name="password"]').setValue('wrong')
    await wrapper.find('form').trigger('submit')
    await flushPromises()
    const [url, init] = fetchMock.mock.calls.at(-1)!
    expect(url).toBe('/api/v1/auth/login/')
    expect(JSON.parse(init.body)).toEqual({ username: 'wang', password: 'wrong' })
    expect(init.headers['X-CSRFToken']).toBe('tok')
    expect(wrapper.find('[data-test="login-error"]').text()).toContain('登录尝试过多，请 5 分钟后再试')
  })

  it('shows the server message for wrong credentials (400) in the current language', async () => {
    await setLocale('en')
    fetchMock.mockResolvedValue(json(400, { code: 'invalid_credentials', message: 'Wrong username or password.' }))
    const { wrapper } = await mountLogin()
    expect(wrapper.text()).toContain('Sign in')
    await wrapper.find('input[name="username"]').setValue('wang')
    await wrapper.find('input[name="password"]').setValue('x')
    await wrapper.find('form').trigger('submit')
    await flushPromises()
    expect(fetchMock.mock.calls.at(-1)![1].headers['Accept-Language']).toBe('en')
    expect(wrapper.find('[data-test="login-error"]').text()).toContain('Wrong username or password.')
  })

  it('asks for both fields before calling the server', async () => {
    const { wrapper } = await mountLogin()
    await wrapper.find('form').trigger('submit')
    await flushPromises()
    expect(fetchMock).not.toHaveBeenCalled()
    expect(wrapper.find('[data-test="login-error"]').text()).toContain('请填写用户名和密码')
  })

  it('opens the home the server names after a successful login', async () => {
    const me = { id: 1, username: 'li', display_name: '李书记', roles: [], departments: [], primary_role: 'secretary', home: 'console' }
    fetchMock.mockResolvedValue(json(200, { user: me, token: 't' }))
    const { wrapper, router } = await mountLogin()
    await wrapper.find('input[name="username"]').setValue('li')
    await wrapper.find('input[name="password"]').setValue('secret')
    await wrapper.find('form').trigger('submit')
    await flushPromises()
    expect(router.currentRoute.value.path).toBe('/console/cases')
  })
})
