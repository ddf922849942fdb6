// Pages of a sorted history read through an index, as MongoDB reads them: `$in` conversations + a createdAt range
// sorted { createdAt, _id } is a SORT_MERGE of one walk per conversation that stops after skip+limit documents; a
// createdAt range (alone or after a sender) walks its index in order. Every page equals the same page computed in
// memory, ties on createdAt broken by _id, both directions, with skip.
import t from 'tap'
import mongoose from 'mongoose'
import { startTestMongo } from '../helpers/mongo.js'
import { planStages, stageNames } from './plan-stages.js'

const { ObjectId } = mongoose.Types
const mongo = await startTestMongo(t)
const schema = new mongoose.Schema({
  conversationId: mongoose.Schema.Types.ObjectId,
  senderId: mongoose.Schema.Types.ObjectId,
  createdAt: Date,
  body: String
}, { versionKey: false })
schema.index({ conversationId: 1, createdAt: 1, _id: 1 })
schema.index({ createdAt: 1, _id: 1 })
schema.index({ senderId: 1, createdAt: 1, _id: 1 })
const Message = mongo.connection.model('PagedMessage', schema, 'paged_messages')
await Message.init()

// Deterministic data: 400 conversations, 100 senders, 2000 distinct seconds for 20,000 messages (ties at every
// second), _ids shuffled so their order says nothing about createdAt.
let state = 7
const rnd = (n: number): number => { state = (state * 1103515245 + 12345) % 2 ** 31; return Math.floor((state / 2 ** 31) * n) }
const conversations = Array.from({ length: 400 }, () => new ObjectId())
const senders = Array.from({ length: 100 }, () => new ObjectId())
const base = Date.UTC(2026, 0, 1)
const ids = Array.from({ length: 20_000 }, () => new ObjectId())
for (let i = ids.length - 1; i > 0; i--) { const j = rnd(i + 1); [ids[i], ids[j]] = [ids[j], ids[i]] }
const words = ['alpha', 'Alpha', 'beta', 'gamma', 'ALPHA', 'delta', 'epsilon', 'zeta']
const docs = ids.map((_id, i) => ({
  _id,
  conversationId: conversations[rnd(400)],
  senderId: senders[rnd(100)],
  createdAt: new Date(base + rnd(2000) * 1000),
  body: `message ${i} ${words[rnd(words.length)]}`
}))
for (let i = 0; i < docs.length; i += 5000) await Message.collection.insertMany(docs.slice(i, i + 5000))

// what the in-memory answers compare, computed once
interface Doc { _id: string, conv: string, sender: string, at: number, body: string }
const rows: Doc[] = docs.map(d => ({
  _id: d._id.toHexString(), conv: d.conversationId.toHexString(), sender: d.senderId.toHexString(), at: d.createdAt.getTime(), body: d.body
}))
type Range = Record<string, Date>
const A = new Date(base + 500_000)
const B = new Date(base + 1_500_000)
const ranges: Array<[string, Range | undefined]> = [
  ['no range', undefined], ['[A, B)', { $gte: A, $lt: B }], ['(A, B]', { $gt: A, $lte: B }], ['>= A', { $gte: A }], ['< B', { $lt: B }]
]
const inRange = (d: Doc, r: Range | undefined): boolean => {
  const at = d.at
  if (r === undefined) return true
  return (r.$gte === undefined || at >= r.$gte.getTime()) && (r.$gt === undefined || at > r.$gt.getTime()) &&
    (r.$lt === undefined || at < r.$lt.getTime()) && (r.$lte === undefined || at <= r.$lte.getTime())
}
const byCreatedAt = (dir: 1 | -1) => (a: Doc, b: Doc): number =>
  dir * (a.at - b.at || (a._id < b._id ? -1 : 1))

/** The page computed in memory, and how many candidates an in-order walk reads to fill it. */
function expected (candidates: Doc[], extra: (d: Doc) => boolean, dir: 1 | -1, skip: number, limit: number): { ids: string[], walked: number } {
  const sorted = [...candidates].sort(byCreatedAt(dir))
  const page: Doc[] = []
  let matched = 0
  let walked = 0
  for (const d of sorted) {
    if (matched >= skip + limit) break
    walked++
    if (!extra(d)) continue
    if (matched++ >= skip) page.push(d)
  }
  return { ids: page.map(d => d._id), walked }
}

async function page (filter: object, dir: 1 | -1, skip: number, limit: number): Promise<string[]> {
  const found = await Message.find(filter).sort({ createdAt: dir, _id: dir }).skip(skip).limit(limit).lean()
  return found.map(d => String(d._id))
}

const unknown = Array.from({ length: 100 }, () => new ObjectId())
const inSets: Array<[string, mongoose.Types.ObjectId[]]> = [
  ['1 conversation', conversations.slice(0, 1)],
  ['3 conversations', conversations.slice(10, 13)],
  ['20 conversations', conversations.slice(100, 120)],
  ['50 conversations + 100 unknown ids', [...conversations.slice(200, 250), ...unknown]]
]
const pagings: Array<[number, number]> = [[0, 50], [30, 50], [0, 200]]

t.test('$in conversations + createdAt range: every page as computed in memory', async (t) => {
  let ties = 0
  for (const [setName, set] of inSets) {
    const members = new Set(set.map(id => id.toHexString()))
    for (const [rangeName, range] of ranges) {
      const candidates = rows.filter(d => members.has(d.conv) && inRange(d, range))
      const filter = { conversationId: { $in: set }, ...(range === undefined ? {} : { createdAt: range }) }
      for (const dir of [-1, 1] as const) {
        for (const [skip, limit] of pagings) {
          const want = expected(candidates, () => true, dir, skip, limit)
          const sorted = [...candidates].sort(byCreatedAt(dir)).slice(skip, skip + limit)
          ties += sorted.filter((d, i) => i > 0 && d.at === sorted[i - 1].at).length
          t.same(await page(filter, dir, skip, limit), want.ids, `${setName}, ${rangeName}, dir ${dir}, skip ${skip}, limit ${limit}`)
        }
      }
    }
  }
  t.ok(ties > 100, `pages hold createdAt ties (${ties}) that _id must order`)
})

t.test('a createdAt range, alone or after a sender, pages in index order', async (t) => {
  const sender = senders[42]
  const senderHex = sender.toHexString()
  for (const [rangeName, range] of ranges.slice(1)) {
    for (const dir of [-1, 1] as const) {
      for (const [skip, limit] of pagings) {
        const all = rows.filter(d => inRange(d, range))
        t.same(await page({ createdAt: range }, dir, skip, limit), expected(all, () => true, dir, skip, limit).ids,
          `createdAt ${rangeName}, dir ${dir}, skip ${skip}`)
        const bySender = all.filter(d => d.sender === senderHex)
        t.same(await page({ senderId: sender, createdAt: range }, dir, skip, limit), expected(bySender, () => true, dir, skip, limit).ids,
          `sender + createdAt ${rangeName}, dir ${dir}, skip ${skip}`)
      }
    }
  }
})

t.test('an extra body regex is checked on the documents the walk reads', async (t) => {
  const alpha = (d: Doc): boolean => /alpha/i.test(d.body)
  const set = conversations.slice(100, 120)
  const members = new Set(set.map(id => id.toHexString()))
  for (const dir of [-1, 1] as const) {
    const merged = rows.filter(d => members.has(d.conv) && inRange(d, { $gte: A }))
    t.same(await page({ conversationId: { $in: set }, createdAt: { $gte: A }, body: /alpha/i }, dir, 10, 50),
      expected(merged, alpha, dir, 10, 50).ids, `$in + range + regex, dir ${dir}`)
    const bySender = rows.filter(d => d.sender === senders[7].toHexString())
    t.same(await page({ senderId: senders[7], createdAt: { $lt: B }, body: /alpha/i }, dir, 0, 20),
      expected(bySender.filter(d => inRange(d, { $lt: B })), alpha, dir, 0, 20).ids, `sender + range + regex, dir ${dir}`)
  }
})

async function stats (filter: object, dir: 1 | -1, skip: number, limit: number): Promise<any> {
  return await Message.find(filter).sort({ createdAt: dir, _id: dir }).skip(skip).limit(limit).explain('executionStats')
}

t.test('$in + range is a SORT_MERGE of per-conversation walks that examines about skip+limit documents', async (t) => {
  const set = conversations.slice(100, 120)
  for (const [dir, skip, limit] of [[-1, 0, 50], [1, 0, 50], [-1, 30, 50], [-1, 0, 200]] as const) {
    const ex = await stats({ conversationId: { $in: set }, createdAt: { $gte: A, $lt: B } }, dir, skip, limit)
    const names = stageNames(ex.queryPlanner.winningPlan)
    t.ok(names.includes('SORT_MERGE'), `dir ${dir}, skip ${skip}, limit ${limit}: ${names.join(' > ')}`)
    t.notOk(names.includes('SORT'), 'no in-memory sort')
    const scans = planStages(ex.queryPlanner.winningPlan).filter(s => s.stage === 'IXSCAN')
    t.equal(scans.length, 20, 'one walk per conversation')
    t.ok(scans.every(s => s.indexName === 'conversationId_1_createdAt_1__id_1'))
    t.equal(ex.executionStats.nReturned, limit)
    t.ok(ex.executionStats.totalDocsExamined <= skip + limit + 1, `examined ${ex.executionStats.totalDocsExamined} documents`)
  }
  const many = [...conversations.slice(200, 250), ...unknown]
  const ex = await stats({ conversationId: { $in: many }, createdAt: { $lt: B } }, -1, 0, 200)
  t.ok(stageNames(ex.queryPlanner.winningPlan).includes('SORT_MERGE'), '150 points')
  t.ok(ex.executionStats.totalDocsExamined <= 201, `150 points: examined ${ex.executionStats.totalDocsExamined} documents`)
})

t.test('a createdAt range walks its index in order and stops at the limit', async (t) => {
  for (const dir of [-1, 1] as const) {
    const ex = await stats({ createdAt: { $gte: A, $lt: B } }, dir, 0, 50)
    const scan = planStages(ex.queryPlanner.winningPlan).find(s => s.stage === 'IXSCAN')
    t.equal(scan?.indexName, 'createdAt_1__id_1')
    t.equal(scan?.direction, dir === 1 ? 'forward' : 'backward')
    t.notOk(stageNames(ex.queryPlanner.winningPlan).includes('SORT'), 'no in-memory sort')
    t.ok(ex.executionStats.totalDocsExamined <= 50, `examined ${ex.executionStats.totalDocsExamined}`)

    const bySender = await stats({ senderId: senders[42], createdAt: { $gt: A } }, dir, 5, 20)
    t.equal(planStages(bySender.queryPlanner.winningPlan).find(s => s.stage === 'IXSCAN')?.indexName, 'senderId_1_createdAt_1__id_1')
    t.notOk(stageNames(bySender.queryPlanner.winningPlan).includes('SORT'), 'sender: no in-memory sort')
    t.ok(bySender.executionStats.totalDocsExamined <= 25, `sender: examined ${bySender.executionStats.totalDocsExamined}`)
  }
})

t.test('with a body regex the walk still stops once the page is full', async (t) => {
  const alpha = (d: Doc): boolean => /alpha/i.test(d.body)
  const bySender = rows.filter(d => d.sender === senders[7].toHexString() && inRange(d, { $lt: B }))
  const want = expected(bySender, alpha, -1, 0, 20)
  const ex = await stats({ senderId: senders[7], createdAt: { $lt: B }, body: /alpha/i }, -1, 0, 20)
  const fetch = planStages(ex.queryPlanner.winningPlan).find(s => s.stage === 'FETCH')
  t.match(JSON.stringify(fetch?.filter), /alpha/, 'FETCH filters on the regex')
  t.equal(planStages(ex.queryPlanner.winningPlan).find(s => s.stage === 'IXSCAN')?.indexName, 'senderId_1_createdAt_1__id_1')
  t.ok(want.walked < bySender.length, 'the page fills before the sender\'s range ends')
  t.ok(ex.executionStats.totalDocsExamined <= want.walked + 1, `examined ${ex.executionStats.totalDocsExamined}, page filled after ${want.walked}`)

  const set = conversations.slice(100, 120)
  const members = new Set(set.map(id => id.toHexString()))
  const merged = rows.filter(d => members.has(d.conv) && inRange(d, { $gte: A }))
  const wantMerged = expected(merged, alpha, -1, 10, 50)
  const exMerged = await stats({ conversationId: { $in: set }, createdAt: { $gte: A }, body: /alpha/i }, -1, 10, 50)
  t.ok(stageNames(exMerged.queryPlanner.winningPlan).includes('SORT_MERGE'))
  t.ok(exMerged.executionStats.totalDocsExamined <= wantMerged.walked + 1,
    `merged: examined ${exMerged.executionStats.totalDocsExamined}, page filled after ${wantMerged.walked} of ${merged.length}`)
})

t.test('keyset pages ($and with a nested $or on the boundary) walk the whole range in order', async (t) => {
  const set = conversations.slice(100, 120)
  const members = new Set(set.map(id => id.toHexString()))
  const candidates = rows.filter(d => members.has(d.conv) && inRange(d, { $gte: A, $lt: B }))
  for (const dir of [-1, 1] as const) {
    const [reach, past] = dir === 1 ? ['$gte', '$gt'] : ['$lte', '$lt']
    const seen: string[] = []
    let after: { at: Date, id: mongoose.Types.ObjectId } | undefined
    let worst = 0
    for (;;) {
      const all: object[] = [{ conversationId: { $in: set } }, { createdAt: { $gte: A } }, { createdAt: { $lt: B } }]
      if (after !== undefined) all.push({ createdAt: { [reach]: after.at } }, { $or: [{ createdAt: { [past]: after.at } }, { _id: { [past]: after.id } }] })
      const query = (): any => Message.find({ $and: all }).sort({ createdAt: dir, _id: dir }).limit(100)
      const docsPage = await query().lean()
      const ex = await query().explain('executionStats')
      worst = Math.max(worst, ex.executionStats.totalDocsExamined)
      t.ok(stageNames(ex.queryPlanner.winningPlan).includes('SORT_MERGE'), `page ${seen.length / 100}: merged`)
      seen.push(...docsPage.map((d: any) => String(d._id)))
      if (docsPage.length < 100) break
      const last = docsPage[docsPage.length - 1]
      after = { at: last.createdAt, id: last._id }
    }
    t.same(seen, expected(candidates, () => true, dir, 0, candidates.length).ids, `dir ${dir}: every message once, in order`)
    // a page reads its 100 documents plus the boundary's createdAt ties it skips
    t.ok(worst <= 110, `dir ${dir}: at most ${worst} documents examined for a page`)
  }
})
