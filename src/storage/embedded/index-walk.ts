/**
 * Runs a plan's index walks: its intervals one after another in the plan's direction or, for a merge plan,
 * one walk per point at once, merged on the keys after the points through a binary heap. A sorted page over
 * many `$in` points then reads one entry per walk plus about skip+limit more, not every match.
 */
import type { Rec } from './index-tree.js'
import type { Plan } from './query-planner.js'

/** What a plan's walks read: entries per walk (one walk per merged point, else one), duplicates skipped. */
export interface WalkResult { more: boolean; keys: number[]; dups: number }

/** Walk a plan, each record once when `seen` is given; `more` is false when `visit` asked to stop. */
export function walkPlan (plan: Plan, seen: Set<number> | undefined, visit: (rec: Rec) => boolean): WalkResult {
  const result: WalkResult = { more: true, keys: [], dups: 0 }
  const once = (rec: Rec): boolean => {
    if (seen !== undefined) {
      if (seen.has(rec.rid)) { result.dups++; return true }
      seen.add(rec.rid)
    }
    return visit(rec)
  }
  if (plan.merge !== undefined) {
    result.more = mergeWalks(plan, once, result.keys)
    return result
  }
  result.keys.push(0)
  const intervals = plan.dir === 1 ? plan.intervals : [...plan.intervals].reverse()
  for (const iv of intervals) {
    plan.index.scan(iv, plan.dir, rec => {
      result.keys[0]++
      result.more = once(rec)
      return result.more
    })
    if (!result.more) break
  }
  return result
}

interface Head { entries: Iterator<[string, Rec]>; walk: number; key: string; rec: Rec }

function mergeWalks (plan: Plan, visit: (rec: Rec) => boolean, keys: number[]): boolean {
  const advance = (head: Head): boolean => {
    const next = head.entries.next()
    if (next.done === true) return false
    keys[head.walk]++
    head.key = next.value[0]
    head.rec = next.value[1]
    return true
  }
  // ties (equal keys after the points) go to the earlier walk, so the order is deterministic
  const before = plan.dir === 1
    ? (a: Head, b: Head) => a.key < b.key || (a.key === b.key && a.walk < b.walk)
    : (a: Head, b: Head) => a.key > b.key || (a.key === b.key && a.walk < b.walk)
  const heap: Head[] = []
  plan.intervals.forEach((iv, walk) => {
    keys.push(0)
    const head = { entries: plan.index.entries(iv, plan.dir, plan.merge ?? 0), walk, key: '', rec: undefined as unknown as Rec }
    if (advance(head)) heap.push(head)
  })
  for (let i = (heap.length >> 1) - 1; i >= 0; i--) siftDown(heap, i, before)
  while (heap.length > 0) {
    const top = heap[0]
    if (!visit(top.rec)) return false
    if (!advance(top)) {
      const last = heap.pop() as Head
      if (heap.length === 0) break
      heap[0] = last
    }
    siftDown(heap, 0, before)
  }
  return true
}

function siftDown (heap: Head[], i: number, before: (a: Head, b: Head) => boolean): void {
  const n = heap.length
  for (;;) {
    const l = 2 * i + 1
    if (l >= n) return
    const r = l + 1
    const c = r < n && before(heap[r], heap[l]) ? r : l
    if (!before(heap[c], heap[i])) return
    const tmp = heap[i]
    heap[i] = heap[c]
    heap[c] = tmp
    i = c
  }
}
