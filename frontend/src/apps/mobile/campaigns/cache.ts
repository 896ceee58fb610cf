// The worker's campaign tasks and checklists, kept on the phone so the list and the form work with no signal.
import { campaignsApi, type Campaign, type CampaignTask } from '@/api/campaigns'
import { cacheGet, cacheSet } from '@/offline/cache'

const TASKS = 'campaign-tasks'
const CAMPAIGNS = 'campaigns'

export interface TaskList {
  tasks: CampaignTask[]
  campaigns: Record<number, Campaign>
  savedAt: number | null
}

/** Loads my tasks not yet done (walking order) and their campaigns; keeps both; falls back to the kept copy. */
export async function loadTasks(): Promise<TaskList & { offline: boolean }> {
  try {
    let page = await campaignsApi.tasks({ mine: true, status: 'pending', page_size: 500 })
    const tasks = [...page.results]
    while (page.next) {
      page = await campaignsApi.more(page.next)
      tasks.push(...page.results)
    }
    const ids = [...new Set(tasks.map((x) => x.campaign))]
    const campaigns: Record<number, Campaign> = {}
    for (const id of ids) campaigns[id] = await campaignsApi.get(id)
    await cacheSet(TASKS, tasks)
    await cacheSet(CAMPAIGNS, campaigns)
    return { tasks, campaigns, savedAt: Date.now(), offline: false }
  } catch (e) {
    const kept = await cacheGet<CampaignTask[]>(TASKS)
    const camps = await cacheGet<Record<number, Campaign>>(CAMPAIGNS)
    if (!kept) throw e
    return { tasks: kept.value, campaigns: camps?.value ?? {}, savedAt: kept.savedAt, offline: true }
  }
}

/** One task and its campaign, from the kept list first (the form opens with no signal). */
export async function loadTask(id: number): Promise<{ task: CampaignTask; campaign: Campaign }> {
  const kept = await cacheGet<CampaignTask[]>(TASKS)
  const camps = await cacheGet<Record<number, Campaign>>(CAMPAIGNS)
  const task = kept?.value.find((x) => x.id === id)
  if (task && camps?.value[task.campaign]) return { task, campaign: camps.value[task.campaign] }
  const fresh = await campaignsApi.task(id)
  return { task: fresh, campaign: await campaignsApi.get(fresh.campaign) }
}
