// The merge of per-point index walks (index-walk.ts) against a full in-memory sort: `$in` prefixes of every
// shape the planner merges (several point fields, descending fields, unique keys, more points than MongoDB's
// 200), the shapes it must not merge, and how much each walk reads.
import t from 'tap'
import { ObjectId } from 'bson'
import { MemoryStore } from '../../../src/storage/embedded/store.js'
import { compareBson } from '../../../src/storage/embedded/bson-order.js'
import type { Document } from '../../../src/storage/embedded/store.types.js'

let seed = 99
const rnd = (n: number): number => { seed = (seed * 1103515245 + 12345) % 2 ** 31; return Math.floor((seed / 2 ** 31) * n) }

function inMemory (docs: Document[], pred: (d: Document) => boolean, sort: Array<[string, 1 | -1]>, skip: number, limit: number): Document[] {
  const sorted = docs.filter(pred).sort((a, b) => {
    for (const [f, dir] of sort) {
      const c = compareBson(a[f], b[f])
      if (c !== 0) return dir * c
    }
    return 0
  })
  return sorted.slice(skip, limit > 0 ? skip + limit : undefined)
}

/** The first stage of that name in a plan tree. */
function findStage (plan: Document | undefined, name: string): Document | undefined {
  if (plan === undefined || plan.stage === name) return plan
  for (const input of [plan.inputStage, ...(plan.inputStages ?? [])]) {
    const found = findStage(input, name)
    if (found !== undefined) return found
  }
  return undefined
}

const sortKeys = (docs: Document[], sort: Array<[string, number]>): unknown[][] => docs.map(d => sort.map(([f]) => d[f]))

t.test('300 conversations, sorted pages: merged walks read one entry each plus the page', async t => {
  const store = new MemoryStore()
  await store.createIndexes('db', 'm', [{ key: { conv: 1, at: 1, _id: 1 }, name: 'conv_at_id' }])
  const convs = Array.from({ length: 400 }, () => new ObjectId())
  const docs = Array.from({ length: 30_000 }, () => ({ _id: new ObjectId(), conv: convs[rnd(400)], at: new Date(1e12 + rnd(5000) * 1000) }))
  await store.insert('db', 'm', docs, true)
  const set = convs.slice(0, 300)
  const members = new Set(set.map(c => c.toHexString()))
  const lo = new Date(1e12 + 1_000_000)
  for (const dir of [-1, 1] as const) {
    for (const [skip, limit] of [[0, 50], [40, 200], [0, 0]]) {
      const query = { filter: { conv: { $in: set }, at: { $gte: lo } }, sort: { at: dir, _id: dir }, skip, limit }
      const want = inMemory(docs, d => members.has(d.conv.toHexString()) && d.at >= lo, [['at', dir], ['_id', dir]], skip, limit)
      const got = store.find('db', 'm', query)
      t.same(got.map(d => d._id.toHexString()), want.map(d => d._id.toHexString()), `dir ${dir}, skip ${skip}, limit ${limit}`)
      if (limit === 0) continue
      const ex = store.explain('db', 'm', query, 'executionStats')
      const stats = ex.executionStats
      t.equal(stats.totalDocsExamined, skip + limit, 'documents examined: the page and what it skips')
      t.ok(stats.totalKeysExamined <= 300 + skip + limit, `keys examined ${stats.totalKeysExamined}`)
      t.equal(findStage(ex.queryPlanner.winningPlan, 'SORT_MERGE')?.inputStages.length, 300, 'one walk per point')
    }
  }
})

t.test('merge shapes: several point fields, descending fields, a unique index', async t => {
  const store = new MemoryStore()
  await store.createIndexes('db', 'p', [
    { key: { a: 1, b: 1, c: 1 }, name: 'abc' },
    { key: { g: 1, at: -1 }, name: 'g_at_desc' },
    { key: { u: 1, seq: 1 }, name: 'u_seq', unique: true }
  ])
  const docs = Array.from({ length: 3000 }, (_, i) => ({ _id: i, a: rnd(5), b: rnd(5), c: rnd(400), g: `g${rnd(6)}`, at: new Date(1e12 + rnd(300) * 1000), u: i % 7, seq: Math.floor(i / 7) }))
  await store.insert('db', 'p', docs, true)
  const cases: Array<[string, Document, Array<[string, 1 | -1]>, (d: Document) => boolean, number]> = [
    ['two $in fields', { a: { $in: [1, 3] }, b: { $in: [0, 2, 4] } }, [['c', 1]], d => [1, 3].includes(d.a) && [0, 2, 4].includes(d.b), 6],
    ['a pinned point then an $in', { a: 2, b: { $in: [1, 4] }, c: { $lt: 300 } }, [['c', -1]], d => d.a === 2 && [1, 4].includes(d.b) && d.c < 300, 2],
    ['descending index field, ascending sort', { g: { $in: ['g1', 'g4', 'g5'] } }, [['at', 1]], d => ['g1', 'g4', 'g5'].includes(d.g), 3],
    ['descending index field, descending sort', { g: { $in: ['g0', 'g2'] }, at: { $gt: new Date(1e12 + 100_000) } }, [['at', -1]], d => ['g0', 'g2'].includes(d.g) && d.at > new Date(1e12 + 100_000), 2],
    ['unique keys, ties across walks', { u: { $in: [0, 3, 6] } }, [['seq', -1]], d => [0, 3, 6].includes(d.u), 3]
  ]
  for (const [label, filter, sort, pred, walks] of cases) {
    const query = { filter, sort: Object.fromEntries(sort), skip: 5, limit: 60 }
    const got = store.find('db', 'p', query)
    const want = inMemory(docs, pred, sort, 5, 60)
    // ties on the sort keys may come in another order; the keys themselves may not
    t.same(sortKeys(got, sort), sortKeys(want, sort), `${label}: sort keys`)
    t.equal(got.length, want.length)
    const ex = store.explain('db', 'p', query, 'executionStats')
    t.equal(findStage(ex.queryPlanner.winningPlan, 'SORT_MERGE')?.inputStages.length, walks, `${label}: merged, ${walks} walks`)
    t.equal(ex.executionStats.totalDocsExamined, 65, `${label}: stops after skip+limit`)
  }
})

t.test('shapes that are not merged still sort right in memory', async t => {
  const store = new MemoryStore()
  await store.createIndexes('db', 'q', [{ key: { a: 1, b: 1 }, name: 'ab' }, { key: { tags: 1, n: 1 }, name: 'tags_n' }])
  const docs = Array.from({ length: 2000 }, (_, i) => ({ _id: i, a: rnd(4), b: rnd(100), tags: [`t${rnd(3)}`, `t${rnd(3)}`], n: rnd(50) }))
  await store.insert('db', 'q', docs, true)
  const cases: Array<[string, Document, Array<[string, 1 | -1]>, (d: Document) => boolean]> = [
    // a sort on the $in field itself after the merged field would need ties broken across walks
    ['sort names the $in field second', { a: { $in: [0, 2] } }, [['b', 1], ['a', -1], ['_id', 1]], d => [0, 2].includes(d.a)],
    // a sort field the index lacks
    ['sort past the index', { a: { $in: [1, 3] } }, [['b', -1], ['_id', -1]], d => [1, 3].includes(d.a)],
    ['multikey index', { tags: { $in: ['t0', 't2'] } }, [['n', 1], ['_id', 1]], d => d.tags.some((x: string) => ['t0', 't2'].includes(x))]
  ]
  for (const [label, filter, sort, pred] of cases) {
    const query = { filter, sort: Object.fromEntries(sort), limit: 40 }
    t.same(store.find('db', 'q', query).map(d => d._id), inMemory(docs, pred, sort, 0, 40).map(d => d._id), label)
    const plan = store.explain('db', 'q', query, 'queryPlanner').queryPlanner.winningPlan
    t.equal(plan.stage, 'SORT', `${label}: sorted in memory`)
  }
})
