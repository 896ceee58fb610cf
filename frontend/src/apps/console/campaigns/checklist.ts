import type { Question, QuestionType } from '@/api/campaigns'

/** A question as the console's builder edits it: the problem rule as a preset the secretary picks. */
export interface DraftQuestion {
  text: string
  type: QuestionType
  required: boolean
  choices: string
  /** '' (none), 'yes', 'no', a choice, or a number for "greater than". */
  problem: string
  /** The case category (code) a problem opens a case in; the campaign's own otherwise. */
  category?: string
}

export function newQuestion(): DraftQuestion {
  return { text: '', type: 'yes_no', required: true, choices: '', problem: '' }
}

/** The checklist the API takes (keys q1, q2 … in order). */
export function toChecklist(draft: DraftQuestion[]): Question[] {
  return draft.map((d, i) => {
    const q: Question = { key: `q${i + 1}`, text: d.text.trim(), type: d.type, required: d.required }
    if (d.type === 'choice') q.choices = d.choices.split(/[,，]/).map((c) => c.trim()).filter(Boolean)
    if (d.category) q.category = d.category
    if (d.problem !== '') {
      if (d.type === 'yes_no') q.problem = { equals: d.problem === 'yes' }
      else if (d.type === 'choice' && q.choices?.includes(d.problem)) q.problem = { equals: d.problem }
      else if (d.type === 'number' && d.problem.trim() !== '' && !Number.isNaN(Number(d.problem))) q.problem = { gt: Number(d.problem) }
    }
    return q
  })
}

/** The corridor-charging checklist the form starts with (专项排查 of 楼道电动车充电). */
export function corridorCharging(): DraftQuestion[] {
  return [
    { text: '楼道内是否有电动车充电（飞线）', type: 'yes_no', required: true, choices: '', problem: 'yes', category: 'safety_ebike' },
    { text: '安全出口', type: 'choice', required: true, choices: '畅通,堵塞', problem: '堵塞', category: 'env_stairwell' },
    { text: '楼道停放电动车数量', type: 'number', required: false, choices: '', problem: '' },
    { text: '现场照片', type: 'photo', required: false, choices: '', problem: '' },
  ]
}
