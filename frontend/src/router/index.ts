import { createRouter, createWebHistory, type RouteLocationNormalized, type RouteRecordRaw } from 'vue-router'
import { useSessionStore, wasSignedIn } from '@/stores/session'

// Routes never start with /api, /admin, /static or /media: Django answers those itself and serves
// index.html for every other path, so HTML5 history URLs work on reload.
export const routes: RouteRecordRaw[] = [
  { path: '/', name: 'root', component: () => import('@/apps/Blank.vue') },
  { path: '/login', name: 'login', component: () => import('@/apps/login/LoginPage.vue'), meta: { public: true } },
  {
    path: '/m',
    component: () => import('@/apps/mobile/MobileLayout.vue'),
    children: [
      { path: '', redirect: '/m/round' },
      { path: 'round', name: 'm-round', component: () => import('@/apps/mobile/RoundPage.vue') },
      {
        path: 'visit/:resident',
        name: 'm-visit',
        component: () => import('@/apps/mobile/VisitFormPage.vue'),
        props: (r) => ({ resident: Number(r.params.resident), residentName: String(r.query.name ?? '') }),
        meta: { hideTabbar: true },
      },
      {
        path: 'residents/:id',
        name: 'm-resident',
        component: () => import('@/apps/mobile/ResidentPage.vue'),
        props: (r) => ({ id: Number(r.params.id) }),
      },
      { path: 'cases', name: 'm-cases', component: () => import('@/apps/mobile/CasesPage.vue') },
      {
        path: 'cases/:id',
        name: 'm-case',
        component: () => import('@/apps/mobile/CaseDetailPage.vue'),
        props: (r) => ({ id: Number(r.params.id) }),
      },
      { path: 'report', name: 'm-report', component: () => import('@/apps/mobile/ReportPage.vue') },
      { path: 'inbox', name: 'm-inbox', component: () => import('@/apps/mobile/InboxPage.vue') },
      // Notices and emergency broadcasts sent to me, with 确认收到 (also offline) (issue 13).
      { path: 'notices', name: 'm-notices', component: () => import('@/apps/mobile/NoticesPage.vue') },
      // Building leads' neighbour check-ins for the worker to confirm (issue 13).
      { path: 'check-ins', name: 'm-check-ins', component: () => import('@/apps/mobile/CheckInsPage.vue') },
      // The patrol log (巡查日志): reached from the round and from 我的.
      { path: 'patrol', name: 'm-patrol', component: () => import('@/apps/mobile/PatrolPage.vue') },
      // Sign-in at a consultation (议事签到), offline too (issue 13).
      { path: 'meetings', name: 'm-meetings', component: () => import('@/apps/mobile/deliberation/MeetingsPage.vue') },
      {
        path: 'meetings/:id',
        name: 'm-meeting',
        component: () => import('@/apps/mobile/deliberation/MeetingSignInPage.vue'),
        props: (r) => ({ id: Number(r.params.id) }),
        meta: { hideTabbar: true },
      },
      // Campaign tasks (专项排查) in walking order, and the answer form (both work offline).
      { path: 'campaign-tasks', name: 'm-campaign-tasks', component: () => import('@/apps/mobile/campaigns/CampaignTasksPage.vue') },
      {
        path: 'campaign-tasks/:id',
        name: 'm-campaign-task',
        component: () => import('@/apps/mobile/campaigns/CampaignAnswerPage.vue'),
        props: (r) => ({ id: Number(r.params.id) }),
        meta: { hideTabbar: true },
      },
      { path: 'me', name: 'm-me', component: () => import('@/apps/mobile/MePage.vue') },
    ],
  },
  {
    path: '/console',
    component: () => import('@/apps/console/ConsoleLayout.vue'),
    children: [
      { path: '', redirect: '/console/cases' },
      { path: 'cases', name: 'c-cases', component: () => import('@/apps/console/CaseListPage.vue') },
      { path: 'queues', name: 'c-queues', component: () => import('@/apps/console/QueuesPage.vue') },
      {
        path: 'cases/:id',
        name: 'c-case',
        component: () => import('@/apps/console/CaseDetailPage.vue'),
        props: (r) => ({ id: Number(r.params.id) }),
      },
      { path: 'dashboard', name: 'c-dashboard', component: () => import('@/apps/console/DashboardPage.vue') },
      // The monthly report (月报) of a node, generated as a background job (issue 12).
      { path: 'reports', name: 'c-reports', component: () => import('@/apps/console/reports/MonthlyReportPage.vue') },
      // Hotspots (未诉先办): recurring problems found by the hotspot job, and one preventive case from each.
      // The grid map (boundaries, buildings, redrawing with the redistricting preview); Leaflet only in this chunk.
      { path: 'map', name: 'c-map', component: () => import('@/apps/console/map/MapPage.vue') },
      { path: 'hotspots', name: 'c-hotspots', component: () => import('@/apps/console/hotspots/HotspotsPage.vue') },
      {
        path: 'hotspots/:id',
        name: 'c-hotspot',
        component: () => import('@/apps/console/hotspots/HotspotDetailPage.vue'),
        props: (r) => ({ id: Number(r.params.id) }),
      },
      // The care plans behind a visit-coverage figure (the dashboard's drill-down).
      { path: 'care-plans', name: 'c-care-plans', component: () => import('@/apps/console/dashboard/CarePlanListPage.vue') },
      // Moving places between grids and handing a worker's work over (grids.moves, grids.handover).
      { path: 'moves', name: 'c-moves', component: () => import('@/apps/console/moves/MovePage.vue') },
      { path: 'handover', name: 'c-handover', component: () => import('@/apps/console/moves/HandoverPage.vue') },
      // The registry (residents, households, import, accounts, grid tree) and the audit log.
      { path: 'residents', name: 'c-residents', component: () => import('@/apps/console/registry/ResidentsPage.vue') },
      {
        path: 'residents/:id',
        name: 'c-resident',
        component: () => import('@/apps/console/registry/ResidentDetailPage.vue'),
        props: (r) => ({ id: Number(r.params.id) }),
      },
      { path: 'households', name: 'c-households', component: () => import('@/apps/console/registry/HouseholdsPage.vue') },
      { path: 'imports', name: 'c-imports', component: () => import('@/apps/console/registry/ImportPage.vue') },
      { path: 'accounts', name: 'c-accounts', component: () => import('@/apps/console/registry/AccountsPage.vue') },
      { path: 'grids', name: 'c-grids', component: () => import('@/apps/console/registry/GridTreePage.vue') },
      { path: 'audit', name: 'c-audit', component: () => import('@/apps/console/registry/AuditPage.vue') },
      // 12345 hotline tickets and their callbacks' delivery state (issue 11).
      { path: 'hotline', name: 'c-hotline', component: () => import('@/apps/console/interop/HotlinePage.vue') },
      // Residents' QR intake: posters, the published phone, a new QR code (issue 11).
      { path: 'qr', name: 'c-qr', component: () => import('@/apps/console/intake/QrPostersPage.vue') },
      // Notices (居务公开) and emergency broadcasts: publish, and the chase list per grid (issue 13).
      { path: 'notices', name: 'c-notices', component: () => import('@/apps/console/notices/NoticesPage.vue') },
      {
        path: 'notices/:id',
        name: 'c-notice',
        component: () => import('@/apps/console/notices/NoticeDetailPage.vue'),
        props: (r) => ({ id: Number(r.params.id) }),
      },
      { path: 'volunteers', name: 'c-volunteers', component: () => import('@/apps/console/notices/VolunteersPage.vue') },
      // The workers' patrol logs, per worker and day (issue 10).
      { path: 'patrol', name: 'c-patrol', component: () => import('@/apps/console/patrol/PatrolLogPage.vue') },
      // Campaigns (专项排查), the points ranking and the points shop's desk (issue 14).
      { path: 'campaigns', name: 'c-campaigns', component: () => import('@/apps/console/campaigns/CampaignsPage.vue') },
      {
        path: 'campaigns/:id',
        name: 'c-campaign',
        component: () => import('@/apps/console/campaigns/CampaignDetailPage.vue'),
        props: (r) => ({ id: Number(r.params.id) }),
      },
      { path: 'points', name: 'c-points', component: () => import('@/apps/console/points/PointsRankingPage.vue') },
      { path: 'shop', name: 'c-shop', component: () => import('@/apps/console/points/ShopDeskPage.vue') },
      // Residents' deliberation (议事): topics, their consultations, decisions and actions (issue 13).
      { path: 'topics', name: 'c-topics', component: () => import('@/apps/console/deliberation/TopicListPage.vue') },
      {
        path: 'topics/:id',
        name: 'c-topic',
        component: () => import('@/apps/console/deliberation/TopicDetailPage.vue'),
        props: (r) => ({ id: Number(r.params.id) }),
      },
      {
        path: 'meetings/:id',
        name: 'c-meeting',
        component: () => import('@/apps/console/deliberation/MeetingPage.vue'),
        props: (r) => ({ id: Number(r.params.id) }),
      },
    ],
  },
  {
    // A building or unit lead's (楼栋长/单元长) or a volunteer's light app: their building only (issue 13).
    path: '/lead',
    name: 'lead',
    component: () => import('@/apps/lead/LeadHome.vue'),
  },
  {
    path: '/dept',
    component: () => import('@/apps/department/DepartmentLayout.vue'),
    children: [
      { path: '', name: 'd-home', component: () => import('@/apps/department/DepartmentHome.vue') },
      {
        path: 'cases/:id',
        name: 'd-case',
        component: () => import('@/apps/department/DepartmentCasePage.vue'),
        props: (r) => ({ id: Number(r.params.id) }),
      },
    ],
  },
  {
    // Residents (no sign-in): the page behind a micro-grid's QR code, reporting, tracking by code and rating.
    path: '/intake',
    component: () => import('@/apps/resident/ResidentLayout.vue'),
    meta: { public: true },
    children: [
      // A resident's credit points (信用积分) by the code on their card.
      {
        path: 'credit/:code',
        name: 'r-credit',
        component: () => import('@/apps/resident/CreditPage.vue'),
        props: (r) => ({ code: String(r.params.code) }),
        meta: { public: true },
      },
      // A community's public notice board (居务公开), by the community's token (issue 13).
      {
        path: 'board/:token',
        name: 'r-board',
        component: () => import('@/apps/resident/IntakeHome.vue'),
        props: (r) => ({ token: String(r.params.token), board: true }),
        meta: { public: true },
      },
      { path: 'track', name: 'r-track-enter', component: () => import('@/apps/resident/TrackPage.vue'), meta: { public: true } },
      {
        path: 'track/:code',
        name: 'r-track',
        component: () => import('@/apps/resident/TrackPage.vue'),
        props: (r) => ({ code: String(r.params.code) }),
        meta: { public: true },
      },
      {
        path: ':token',
        name: 'r-home',
        component: () => import('@/apps/resident/IntakeHome.vue'),
        props: (r) => ({ token: String(r.params.token) }),
        meta: { public: true },
      },
      {
        path: ':token/report',
        name: 'r-report',
        component: () => import('@/apps/resident/IntakeReport.vue'),
        props: (r) => ({ token: String(r.params.token) }),
        meta: { public: true },
      },
    ],
  },
  { path: '/:pathMatch(.*)*', redirect: '/' },
]

type Lazy = () => Promise<unknown>
function prefetchComponents(matched: RouteLocationNormalized['matched']) {
  for (const record of matched) {
    const component = record.components?.default
    // Lazy route components are plain functions returning import(); loaded components are objects.
    if (typeof component === 'function' && !('__vccOpts' in component)) void (component as Lazy)().catch(() => undefined)
  }
}

export function createAppRouter() {
  const router = createRouter({ history: createWebHistory('/'), routes })

  router.beforeEach(async (to) => {
    if (to.meta.public) return true
    // The screen's code is fetched while the session is checked, not after: one round trip less before the
    // first screen on a slow line (the router reuses the same import when it resolves the route).
    const session = useSessionStore()
    if (!session.loaded && wasSignedIn()) prefetchComponents(to.matched)
    const me = await session.ensureLoaded()
    if (!me) return { name: 'login', query: to.fullPath !== '/' ? { next: to.fullPath } : {} }
    if (to.name === 'root') return session.home
    return true
  })

  return router
}
