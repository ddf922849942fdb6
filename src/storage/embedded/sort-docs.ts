/**
 * In-memory sort with MongoDB semantics: BSON order, missing as null, and an array field sorting by
 * its smallest element ascending and its largest descending. Stable, so ties keep scan order. With a
 * small `keep` (skip + limit) only the first `keep` are selected, in O(n log keep).
 */
import { compareBson } from './bson-order.js'
import { pathValues } from './index-tree.js'
import type { Document } from './store.types.js'

interface Decorated<T> { item: T; keys: unknown[]; seq: number }

export function sortDocs<T> (items: T[], sort: Array<[string, number]>, docOf: (t: T) => Document, keep = Infinity): T[] {
  if (sort.length === 0) return items
  const paths = sort.map(([f]) => f.split('.'))
  const decorate = (item: T, seq: number): Decorated<T> => {
    const doc = docOf(item)
    const keys = paths.map((p, i) => {
      const { values } = pathValues(doc, p)
      let best = values[0]
      for (let j = 1; j < values.length; j++) {
        const c = compareBson(values[j], best)
        if (sort[i][1] > 0 ? c < 0 : c > 0) best = values[j]
      }
      return best
    })
    return { item, keys, seq }
  }
  const cmp = (a: Decorated<T>, b: Decorated<T>): number => {
    for (let i = 0; i < sort.length; i++) {
      const c = compareBson(a.keys[i], b.keys[i])
      if (c !== 0) return sort[i][1] < 0 ? -c : c
    }
    return a.seq - b.seq
  }
  if (keep * 4 >= items.length) return items.map(decorate).sort(cmp).map(d => d.item)
  // bounded selection: a sorted buffer of the best `keep` so far
  const best: Array<Decorated<T>> = []
  items.forEach((item, i) => {
    const d = decorate(item, i)
    if (best.length === keep && cmp(d, best[keep - 1]) >= 0) return
    let lo = 0
    let hi = best.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (cmp(best[mid], d) <= 0) lo = mid + 1
      else hi = mid
    }
    best.splice(lo, 0, d)
    if (best.length > keep) best.pop()
  })
  return best.map(d => d.item)
}
