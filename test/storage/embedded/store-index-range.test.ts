// Index-narrowed finds must return what a full scan returns: random documents and random queries
// (equality prefixes, $in, ranges, sorts in both directions, skip/limit) against an indexed and an
// unindexed copy of the same data. Also checks that the index walk really is used (few docs visited).
import t from 'tap'
import { Int32, ObjectId } from 'bson'
import { MemoryStore } from '../../../src/storage/embedded/store.js'
import { compareBson } from '../../../src/storage/embedded/bson-order.js'
import type { Document } from '../../../src/storage/embedded/store.types.js'

// small deterministic PRNG so failures reproduce
function rng (seed: number): () => number {
  let s = seed >>> 0
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0
    return s / 2 ** 32
  }
}

const rand = rng(12345)
const pick = <T>(xs: T[]): T => xs[Math.floor(rand() * xs.length)]
const convs = Array.from({ length: 8 }, () => new ObjectId())
const kinds = ['a', 'b', 'c', null, undefined]

function randomDoc (i: number): Document {
  const d: Document = { _id: i, conv: pick(convs), seq: new Int32(Math.floor(rand() * 50)), score: rand() < 0.5 ? Math.floor(rand() * 20) : new Int32(Math.floor(rand() * 20)) }
  const kind = pick(kinds)
  if (kind !== undefined) d.kind = kind
  if (rand() < 0.3) d.tags = Array.from({ length: Math.floor(rand() * 3) }, () => pick(['x', 'y', 'z']))
  if (rand() < 0.5) d.opt = pick([null, 1, 2, 'q', new Int32(3)])
  return d
}

const INDEXES = [
  { key: { conv: 1, seq: 1 }, name: 'conv_1_seq_1' },
  { key: { kind: 1, score: -1 }, name: 'kind_1_score_-1' },
  { key: { tags: 1 }, name: 'tags_1' },
  { key: { seq: -1 }, name: 'seq_-1' },
  { key: { opt: 1 }, name: 'opt_1', sparse: true }
]

const indexed = new MemoryStore()
const plain = new MemoryStore()
await indexed.createIndexes('db', 'c', INDEXES)
const docs = Array.from({ length: 1500 }, (_, i) => randomDoc(i))
await indexed.insert('db', 'c', docs, true)
await plain.insert('db', 'c', docs, true)
// some churn so index entries move
for (let i = 0; i < 200; i++) {
  const u = { q: { _id: Math.floor(rand() * 1500) }, u: { $set: { seq: new Int32(Math.floor(rand() * 50)), kind: pick(['a', 'b', null]) } } }
  await indexed.update('db', 'c', [u], true)
  await plain.update('db', 'c', [u], true)
}
const dels = [{ q: { seq: new Int32(7) }, limit: 0 as const }]
await indexed.delete('db', 'c', dels, true)
await plain.delete('db', 'c', dels, true)

function randomRange (): Document {
  const lo = Math.floor(rand() * 40)
  const ops = pick([['$gt'], ['$gte'], ['$lt'], ['$lte'], ['$gt', '$lt'], ['$gte', '$lte']])
  const r: Document = {}
  for (const op of ops) r[op] = op.startsWith('$g') ? new Int32(lo) : lo + Math.floor(rand() * 15)
  return r
}

function randomQuery (): Document {
  const filter: Document = {}
  const shape = Math.floor(rand() * 9)
  if (shape === 0) { filter.conv = pick(convs); if (rand() < 0.7) filter.seq = randomRange() }
  if (shape === 1) filter.conv = { $in: [pick(convs), pick(convs)] }
  if (shape === 2) { filter.kind = pick(['a', 'b', 'c', null]); if (rand() < 0.5) filter.score = randomRange() }
  if (shape === 3) filter.tags = rand() < 0.5 ? pick(['x', 'y', 'z']) : { $in: ['x', 'z'] }
  if (shape === 4) filter.seq = randomRange()
  if (shape === 5) filter.$and = [{ conv: pick(convs) }, { seq: { $gte: 10 } }]
  if (shape === 6) filter.opt = pick([null, 1, 'q', { $gte: 2 }, { $in: [null, 2] }, { $exists: false }])
  if (shape === 7) filter.conv = { $in: rand() < 0.5 ? [] : convs.slice(0, 3) }
  if (shape === 8) {
    filter.$or = pick([
      [{ conv: pick(convs) }, { kind: 'a' }],
      [{ tags: 'x' }, { seq: { $lt: 5 } }, { opt: 2 }],
      [{ conv: pick(convs), seq: randomRange() }, { score: 3 }]
    ])
    if (rand() < 0.3) filter.kind = 'b'
  }
  const sort = pick<Document | undefined>([undefined, { seq: 1 }, { seq: -1 }, { score: -1 }, { conv: 1, seq: 1 }, { conv: -1, seq: -1 }, { score: 1, seq: -1 }, { opt: -1 }])
  const limit = pick([0, 0, 1, 5, 20])
  const skip = pick([0, 0, 3])
  return { filter, sort, limit, skip }
}

function sortKey (d: Document, sort: Document | undefined): unknown[] {
  return Object.keys(sort ?? {}).map(k => d[k] ?? null)
}

t.test('random queries: indexed results equal full-scan results', async t => {
  for (let i = 0; i < 600; i++) {
    const q = randomQuery()
    const got = indexed.find('db', 'c', q)
    const want = plain.find('db', 'c', q)
    const label = JSON.stringify(q)
    if (got.length !== want.length) { t.fail(`count differs for ${label}: ${got.length} vs ${want.length}`); continue }
    if (q.sort === undefined) {
      if (q.limit === 0 && q.skip === 0) t.same(got.map(d => d._id).sort(), want.map(d => d._id).sort(), label)
      continue
    }
    // ties may come in another order; the sort keys must not
    const keysGot = got.map(d => sortKey(d, q.sort))
    const keysWant = want.map(d => sortKey(d, q.sort))
    t.ok(keysGot.every((k, j) => compareBson(k, keysWant[j]) === 0), `sort keys equal for ${label}`)
    if (q.limit === 0 && q.skip === 0) t.same(got.map(d => d._id).sort(), want.map(d => d._id).sort(), `same documents for ${label}`)
  }
})

t.test('the benchmark shape walks only the needed index range', async t => {
  const store = new MemoryStore()
  await store.createIndexes('db', 'm', [{ key: { conversationId: 1, seq: 1 }, name: 'conversationId_1_seq_1', unique: true }])
  const ids = Array.from({ length: 50 }, () => new ObjectId())
  const batch: Document[] = []
  for (let i = 0; i < 20_000; i++) batch.push({ conversationId: ids[i % 50], seq: new Int32(Math.floor(i / 50)) })
  await store.insert('db', 'm', batch, true)
  const conv = ids[3]
  const latest = store.find('db', 'm', { filter: { conversationId: conv }, sort: { seq: -1 }, limit: 50 })
  t.same(latest.map(d => d.seq.value), Array.from({ length: 50 }, (_, i) => 399 - i))
  const page = store.find('db', 'm', { filter: { conversationId: conv, seq: { $lt: new Int32(100) } }, sort: { seq: -1 }, limit: 50 })
  t.same(page.map(d => d.seq.value), Array.from({ length: 50 }, (_, i) => 99 - i))
  const asc = store.find('db', 'm', { filter: { conversationId: conv, seq: { $gte: 10, $lt: 13 } }, sort: { seq: 1 } })
  t.same(asc.map(d => d.seq.value), [10, 11, 12])
  const explain = (q: Document): Document => store.explainFind('db', 'm', q)
  t.same(explain({ filter: { conversationId: conv }, sort: { seq: -1 }, limit: 50 }),
    { index: 'conversationId_1_seq_1', docsExamined: 50, nReturned: 50, sortedByIndex: true }, 'stops after the limit')
  t.same(explain({ filter: { conversationId: conv, seq: { $lt: new Int32(100) } }, sort: { seq: -1 }, limit: 50 }),
    { index: 'conversationId_1_seq_1', docsExamined: 50, nReturned: 50, sortedByIndex: true })
  t.same(explain({ filter: { conversationId: conv, seq: { $gte: 10, $lt: 13 } } }).docsExamined, 3)
  t.same(explain({ filter: { _id: latest[0]._id } }), { index: '_id_', docsExamined: 1, nReturned: 1, sortedByIndex: false })
  t.same(explain({ filter: { conversationId: { $in: [ids[1], ids[2]] } } }).docsExamined, 800)
  t.same(explain({ filter: { seq: 5 } }), { index: null, docsExamined: 20_000, nReturned: 50, sortedByIndex: false }, 'no usable index: full scan')
  t.same(explain({ sort: { conversationId: -1, seq: -1 }, limit: 3 }).docsExamined, 3, 'a sort-only index walk stops early too')
  const either = explain({ filter: { $or: [{ conversationId: ids[1] }, { conversationId: ids[2], seq: { $lt: 10 } }] } })
  t.same(either, { index: 'conversationId_1_seq_1,conversationId_1_seq_1', docsExamined: 410, nReturned: 410, sortedByIndex: false }, '$or walks each branch\'s range')
})

t.test('bounded in-memory sort (small limit) selects exactly what a full sort would', async t => {
  const { sortDocs } = await import('../../../src/storage/embedded/sort-docs.js')
  const items = Array.from({ length: 3000 }, (_, i) => randomDoc(i))
  for (const sort of [[['seq', 1]], [['score', -1], ['seq', 1]], [['tags', 1]], [['opt', -1]]] as Array<Array<[string, number]>>) {
    const full = sortDocs(items, sort, d => d)
    for (const keep of [1, 7, 50]) {
      t.same(sortDocs(items, sort, d => d, keep).map(d => d._id), full.slice(0, keep).map(d => d._id), `${JSON.stringify(sort)} keep ${keep}`)
    }
  }
})

t.test('a partial index serves queries whose equality implies its filter, and only those', async t => {
  const store = new MemoryStore()
  await store.createIndexes('db', 'p', [
    { key: { conv: 1, seq: 1 }, name: 'conv_1_seq_1', unique: true },
    { key: { conv: 1, client: 1 }, name: 'client', unique: true, partialFilterExpression: { client: { $type: 'string' } } },
    { key: { conv: 1, flag: 1 }, name: 'flagged', partialFilterExpression: { $and: [{ flag: { $exists: true } }, { flag: { $gt: 2 } }] } }
  ])
  const conv = new ObjectId()
  const docs: Document[] = []
  for (let i = 0; i < 2000; i++) {
    const doc: Document = { conv, seq: i }
    if (i % 2 === 0) doc.client = `c${i}`
    else if (i % 3 === 0) doc.client = i
    if (i % 5 === 0) doc.flag = i % 7
    docs.push(doc)
  }
  await store.insert('db', 'p', docs, true)
  const explain = (filter: Document): Document => store.explainFind('db', 'p', { filter })
  t.same(explain({ conv, client: 'c10' }), { index: 'client', docsExamined: 1, nReturned: 1, sortedByIndex: false }, 'a string equality implies $type string')
  t.same(explain({ conv, client: { $in: ['c10', 'c12'] } }).index, 'client')
  t.not(explain({ conv, client: 9 }).index, 'client', 'a number is not in the partial index: not used')
  t.equal(explain({ conv, client: 9 }).nReturned, 1, 'and still found by another plan')
  t.not(explain({ conv, client: null }).index, 'client', 'null also matches missing fields: not used')
  t.equal(explain({ conv, client: null }).nReturned, store.find('db', 'p', { filter: { conv, client: { $exists: false } } }).length)
  t.not(explain({ conv, client: { $gt: 'c' } }).index, 'client', 'a range proves nothing')
  t.same(explain({ conv, flag: 5 }).index, 'flagged', '$and of conditions all implied by the point')
  t.not(explain({ conv, flag: 1 }).index, 'flagged', 'a point outside the filter: not used')
  t.equal(explain({ conv, flag: 1 }).nReturned, docs.filter(d => d.flag === 1).length)
})
