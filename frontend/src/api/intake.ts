/**
 * The residents' channel (no sign-in): the QR page of a micro-grid, reporting, following a report already made,
 * photos, tracking and rating by code. And, for staff, a micro-grid's QR settings, token rotation and posters.
 */
import { API_BASE, apiUrl, http } from './http'

export interface PublicCategory {
  id: number
  code: string
  name: string
  name_en: string
  children: PublicCategory[]
}

export interface IntakePage {
  grid: { name: string; code: string; path: string[] }
  worker: { public_name: string; phone: string }
  categories: PublicCategory[]
  form_token: string
  max_photos: number
}

export interface IntakeReport {
  category: number
  description: string
  title?: string
  name?: string
  contact_phone?: string
  location?: { lat: number; lng: number }
  client_key: string
  form_token: string
  /** The honeypot: people never see or fill it. */
  website?: string
}

export interface IntakeReceipt {
  code: string
  number: string
  status: string
  status_text: string
  track_url: string
  page_url: string
}

export interface SimilarReport {
  ref: string
  category: string
  status: string
  status_text: string
  reported_at: string
  distance_m: number | null
  followers: number
}

export interface Tracking {
  code: string
  number: string
  title: string
  category: string
  grid_name: string
  status: string
  status_text: string
  reported_at: string
  closed_at: string | null
  rating: 'satisfied' | 'basically' | 'dissatisfied' | null
  rating_comment: string
  can_rate: boolean
  following: boolean
  merged: boolean
  timeline: { at: string; action: string; label: string; status: string | null }[]
  replies: { at: string; text: string }[]
  photos: number
  can_add_photos: boolean
}

export interface QrSettings {
  grid: number
  name: string
  code: string
  level: string
  url: string
  public_phone: string
}

const enc = encodeURIComponent

export const intakeApi = {
  page: (token: string) => http.get<IntakePage>(`intake/${enc(token)}/`),
  similar: (token: string, category: number, location?: { lat: number; lng: number } | null) =>
    http.get<SimilarReport[]>(`intake/${enc(token)}/similar/`, { category, lat: location?.lat, lng: location?.lng }),
  report: (token: string, body: IntakeReport) => http.post<IntakeReceipt>(`intake/${enc(token)}/`, body),
  follow: (token: string, ref: string, clientKey: string) =>
    http.post<IntakeReceipt>(`intake/${enc(token)}/follow/`, { ref, client_key: clientKey }),
  addPhoto(code: string, photo: Blob, filename = 'photo.jpg') {
    const form = new FormData()
    form.append('file', photo, filename)
    return http.upload<{ photos: number; max_photos: number }>(`intake/track/${enc(code)}/photos/`, form)
  },
  track: (code: string) => http.get<Tracking>(`intake/track/${enc(code)}/`),
  rate: (code: string, rating: string, comment: string) =>
    http.post<Tracking>(`intake/track/${enc(code)}/rate/`, { rating, comment }),

  // Staff (signed in): a micro-grid's QR code, its published phone, a new token, posters.
  qr: (gridId: number) => http.get<QrSettings>(`intake/qr/${gridId}/`),
  setPhone: (gridId: number, phone: string) => http.patch<QrSettings>(`intake/qr/${gridId}/`, { public_phone: phone }),
  rotate: (gridId: number) => http.post<QrSettings>(`intake/qr/${gridId}/rotate/`),
  posterUrl: (gridId: number) => apiUrl(`${API_BASE}/intake/posters/`, { grid: gridId }),
}

/** What the residents' channel adds to a case for staff (fields of the case answer). */
export interface ResidentSide {
  source: string
  reporter_name?: string
  contact_phone_masked?: string
  rating?: string
  rating_source?: '' | 'resident' | 'callback'
  rating_comment?: string
  callback_at?: string | null
}

export interface CandidateCase {
  id: number
  number: string
  title: string
  status: string
  grid_name: string
  created_at: string
}

export const caseResidentApi = {
  /** The resident's contact phone in clear (the server writes an audit row). */
  contact: (caseId: number) => http.post<{ name: string; phone: string }>(`cases/${caseId}/contact/`),
  /** Open cases like this one nearby: merge candidates. */
  similar: (caseId: number) => http.get<CandidateCase[]>(`cases/${caseId}/similar/`),
}
