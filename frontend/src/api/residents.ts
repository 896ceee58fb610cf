import { http } from './http'
import type { Page, Tag } from './types'

export interface Resident {
  id: number
  name: string
  gender: string
  birth_date: string | null
  age: number | null
  phone: string
  id_number: string
  phone_masked: boolean
  household: number | null
  household_label: string
  grid: number
  grid_name: string
  tags: Tag[]
}

export const residentsApi = {
  list: (f: { within?: number; tag?: string; q?: string } = {}) => http.get<Page<Resident>>('residents/', f),
  more: (next: string) => http.get<Page<Resident>>(next),
  get: (id: number) => http.get<Resident>(`residents/${id}/`),
}
