import { describe, expect, it, vi } from 'vitest'

vi.mock('@/api/cases', () => ({ casesApi: { upload: vi.fn(async () => ({ id: 7 })), create: vi.fn() } }))

import { casesApi } from '@/api/cases'
import { newItem } from './queue'
import { apiSender } from './sender'

describe('apiSender', () => {
  it("sends a queued photo with the queue item's uuid as its key, the same on every retry", async () => {
    const photo = new Blob(['x'], { type: 'image/jpeg' })
    const item = newItem('attachment', '0b7e4c1e-1111-4222-8333-444455556666', { case: 9, number: 'N-9' }, 'leak', 0, { photo })
    expect(await apiSender(item)).toBeNull()
    await apiSender(item)
    const calls = vi.mocked(casesApi.upload).mock.calls
    expect(calls).toHaveLength(2)
    for (const call of calls) {
      expect(call[0]).toBe(9)
      expect(call[5]).toBe('0b7e4c1e-1111-4222-8333-444455556666')
    }
  })
})
