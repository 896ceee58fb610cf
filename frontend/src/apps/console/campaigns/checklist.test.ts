import { describe, expect, it } from 'vitest'
import { corridorCharging, newQuestion, toChecklist } from './checklist'

describe('the checklist builder', () => {
  it('turns the presets into the API checklist with keys, problem rules and categories', () => {
    const list = toChecklist(corridorCharging())
    expect(list.map((q) => q.key)).toEqual(['q1', 'q2', 'q3', 'q4'])
    expect(list[0]).toMatchObject({ type: 'yes_no', required: true, problem: { equals: true }, category: 'safety_ebike' })
    expect(list[1]).toMatchObject({ type: 'choice', choices: ['畅通', '堵塞'], problem: { equals: '堵塞' } })
    expect(list[2].problem).toBeUndefined()
  })

  it('reads a number threshold and full-width commas', () => {
    const q = { ...newQuestion(), text: ' 数量 ', type: 'number' as const, problem: '3' }
    const c = { ...newQuestion(), text: '出口', type: 'choice' as const, choices: '畅通，堵塞', problem: 'no' }
    const [n, ch] = toChecklist([q, c])
    expect(n).toMatchObject({ text: '数量', problem: { gt: 3 } })
    expect(ch.choices).toEqual(['畅通', '堵塞'])
    expect(ch.problem).toBeUndefined() // not one of its choices
  })
})
