import { defineStore } from 'pinia'
import { computed } from 'vue'
import { notificationsApi, type Notification } from '@/api/notifications'
import { useCursorList } from '@/composables/useCursorList'

export const useNotificationsStore = defineStore('notifications', () => {
  const list = useCursorList(notificationsApi.list, notificationsApi.more)

  /** Unread first (the server orders that way too), newest first within each group. */
  const sorted = computed(() =>
    [...list.items.value].sort((a, b) => {
      if (!a.read_at !== !b.read_at) return a.read_at ? 1 : -1
      return b.created_at.localeCompare(a.created_at)
    }),
  )
  const unreadCount = computed(() => list.items.value.filter((n) => !n.read_at).length)

  async function markRead(n: Notification) {
    if (n.read_at) return
    await notificationsApi.read(n.id)
    list.replace((x) => x.id === n.id, { ...n, read_at: new Date().toISOString() })
  }

  async function markAllRead() {
    await notificationsApi.readAll()
    const now = new Date().toISOString()
    list.items.value = list.items.value.map((n) => (n.read_at ? n : { ...n, read_at: now }))
  }

  return {
    items: list.items,
    loading: list.loading,
    finished: list.finished,
    error: list.error,
    reload: list.reload,
    loadMore: list.loadMore,
    sorted,
    unreadCount,
    markRead,
    markAllRead,
  }
})
