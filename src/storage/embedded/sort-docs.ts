/**
 * In-memory sort with MongoDB semantics: BSON order, missing as null, and an array field sorting by
 * its smallest element ascending and its largest descending. Stable, so ties keep scan order.
 */
import { compareBson } from './bson-order.js'
import { pathValues } from './index-tree.js'
import type { Document } from './store.types.js'

export function sortDocs<T> (items: T[], sort: Array<[string, number]>, docOf: (t: T) => Document): T[] {
  if (sort.length === 0) return items
  const paths = sort.map(([f]) => f.split('.'))
  const decorated = items.map(item => {
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
    return { item, keys }
  })
  decorated.sort((a, b) => {
    for (let i = 0; i < sort.length; i++) {
      const c = compareBson(a.keys[i], b.keys[i])
      if (c !== 0) return sort[i][1] < 0 ? -c : c
    }
    return 0
  })
  return decorated.map(d => d.item)
}
