import { describe, expect, it } from 'vitest'
import { ACTION_FORMS, actionPayload, CASE_ACTIONS, type ActionPayloads, type FormValues } from './cases'

const values = (over: Partial<FormValues> = {}): FormValues => ({
  reason: '',
  note: '',
  comment: '',
  publicReply: '',
  assignee: '',
  departments: [],
  reportBy: '2026-05-01T09:30',
  rating: 'satisfied',
  calledAt: '2026-05-01T10:00',
  hours: 24,
  approve: 'yes',
  department: '',
  score: 5,
  into: '',
  ...over,
})

describe('action form specs', () => {
  it('offer every action once, in the order of the buttons', () => {
    expect(CASE_ACTIONS).toEqual(Object.keys(ACTION_FORMS))
    expect(new Set(CASE_ACTIONS).size).toBe(CASE_ACTIONS.length)
  })

  it('build the body from the fields, refusing a missing required input', () => {
    expect(actionPayload('accept', values())).toEqual({})
    expect(actionPayload('reject', values({ reason: '  ' }))).toBeNull()
    expect(actionPayload('reject', values({ reason: ' 不属实 ' }))).toEqual({ reason: '不属实' })
    expect(actionPayload('assign', values({ assignee: '0' }))).toBeNull()
    expect(actionPayload('assign', values({ assignee: '12' }))).toEqual({ assignee: 12 })
    expect(actionPayload('whistle', values())).toBeNull()
    // the note of a whistle is optional: sent empty
    expect(actionPayload('whistle', values({ departments: ['3', '4'] }))).toEqual({
      departments: [3, 4],
      report_by: '2026-05-01T09:30:00+08:00',
      note: '',
    })
    expect(actionPayload('request_extension', values({ hours: 8, reason: '等配件' }))).toEqual({ hours: 8, reason: '等配件' })
    expect(actionPayload('decide_extension', values({ approve: 'no' }))).toEqual({ approve: false })
    expect(actionPayload('score_department', values({ department: '5', score: 4 }))).toEqual({ department: 5, score: 4 })
    expect(actionPayload('merge', values({ into: '77' }))).toEqual({ into: 77 })
  })

  it('give each action a body type derived from its fields', () => {
    const whistle: ActionPayloads['whistle'] = { departments: [1], report_by: 'x', note: '' }
    const accept: ActionPayloads['accept'] = {}
    // @ts-expect-error an assign needs its assignee
    const assign: ActionPayloads['assign'] = {}
    expect([whistle, accept, assign]).toHaveLength(3)
  })
})
