/** The 12345 hotline link: tickets the platform pushed and the delivery state of each stage's callback. */
import { http } from './http'
import type { Page } from './types'

export const HOTLINE_STAGES = ['accepted', 'replied', 'resolved', 'closed', 'rating'] as const
export type HotlineStage = (typeof HOTLINE_STAGES)[number]

export interface HotlineCallback {
  stage: HotlineStage
  state: 'pending' | 'sending' | 'sent' | 'failed'
  attempts: number
  last_error: string
  sent_at: string | null
  next_attempt_at: string | null
  created_at: string
}

export interface HotlineTicket {
  id: number
  ticket_id: string
  case: number
  case_number: string
  case_status: string
  grid_name: string
  received_at: string
  address: string
  category_code: string
  callbacks: HotlineCallback[]
}

export const hotlineApi = {
  list: () => http.get<Page<HotlineTicket>>('hotline/tickets/'),
  more: (next: string) => http.get<Page<HotlineTicket>>(next),
}
