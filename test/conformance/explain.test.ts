// explain through mongoose, as MongoDB shapes it: the plan names the index walked (IXSCAN under FETCH, LIMIT,
// SKIP), a collection scan is COLLSCAN, a sort the index cannot give is a SORT stage, and executionStats count
// what running the query examined.
import t from 'tap'
import mongoose from 'mongoose'
import { startTestMongo } from '../helpers/mongo.js'
import { findExplain, planStages, stageNames } from './plan-stages.js'

const mongo = await startTestMongo(t)
const { connection } = mongo

const schema = new mongoose.Schema({
  conversationId: mongoose.Schema.Types.ObjectId,
  createdAt: Date,
  body: String
}, { versionKey: false })
schema.index({ conversationId: 1, createdAt: 1, _id: 1 })
const Message = connection.model('ExplainMessage', schema, 'explain_messages')
await Message.init()

const INDEX = 'conversationId_1_createdAt_1__id_1'
const conversations = Array.from({ length: 10 }, () => new mongoose.Types.ObjectId())
const TOTAL = 2000
const base = Date.UTC(2026, 0, 1)
await Message.insertMany(Array.from({ length: TOTAL }, (_, i) => ({
  conversationId: conversations[i % 10],
  createdAt: new Date(base + i * 1000),
  body: `message ${i}`
})))
const [conv] = conversations

t.test('an indexed find names its index and examines only the page', async (t) => {
  const ex: any = await Message.find({ conversationId: conv }).sort({ createdAt: -1, _id: -1 }).limit(20).explain('executionStats')
  t.equal(ex.ok, 1)
  t.equal(ex.queryPlanner.namespace, `${mongo.dbName}.explain_messages`)
  t.ok(ex.queryPlanner.parsedQuery.conversationId !== undefined, 'parsedQuery names the filtered field')
  t.ok(Array.isArray(ex.queryPlanner.rejectedPlans))
  const plan = ex.queryPlanner.winningPlan
  t.same(stageNames(plan), ['LIMIT', 'FETCH', 'IXSCAN'])
  t.equal(plan.limitAmount, 20)
  const scan = planStages(plan).find(s => s.stage === 'IXSCAN')
  t.match(scan, { indexName: INDEX, keyPattern: { conversationId: 1, createdAt: 1, _id: 1 }, direction: 'backward' })
  t.equal(scan.indexBounds.conversationId.length, 1, 'one point on the conversation')
  t.match(scan.indexBounds.conversationId[0], new RegExp(conv.toHexString()))
  const stats = ex.executionStats
  t.equal(stats.executionSuccess, true)
  t.equal(stats.nReturned, 20)
  t.ok(stats.totalDocsExamined <= 20, `examined ${stats.totalDocsExamined} documents for a page of 20`)
  t.ok(stats.totalKeysExamined <= 21, `examined ${stats.totalKeysExamined} keys`)
  t.type(stats.executionTimeMillis, 'number')
  t.same(stageNames(stats.executionStages), ['LIMIT', 'FETCH', 'IXSCAN'], 'executionStages has the same tree')
  t.equal(stats.executionStages.nReturned, 20)
})

t.test('queryPlanner verbosity plans without execution statistics', async (t) => {
  const ex: any = await Message.find({ conversationId: conv, createdAt: { $gte: new Date(base) } }).explain('queryPlanner')
  t.equal(ex.executionStats, undefined)
  t.same(stageNames(ex.queryPlanner.winningPlan), ['FETCH', 'IXSCAN'])
  t.equal(planStages(ex.queryPlanner.winningPlan)[1].indexName, INDEX)
})

t.test('a find no index serves is a collection scan', async (t) => {
  const ex: any = await Message.find({ body: 'message 7' }).explain('executionStats')
  const plan = ex.queryPlanner.winningPlan
  t.same(stageNames(plan), ['COLLSCAN'])
  t.same(plan.filter, { body: { $eq: 'message 7' } })
  t.equal(ex.executionStats.nReturned, 1)
  t.equal(ex.executionStats.totalDocsExamined, TOTAL, 'every document examined')
  t.equal(ex.executionStats.totalKeysExamined, 0)
})

t.test('a sort the index cannot give is done in memory: SORT', async (t) => {
  const ex: any = await Message.find({ conversationId: conv }).sort({ body: 1 }).limit(5).explain('executionStats')
  const plan = ex.queryPlanner.winningPlan
  t.same(stageNames(plan), ['SORT', 'FETCH', 'IXSCAN'])
  t.same(plan.sortPattern, { body: 1 })
  t.equal(plan.limitAmount, 5)
  t.equal(ex.executionStats.nReturned, 5)
  t.equal(ex.executionStats.totalDocsExamined, TOTAL / 10, 'the whole conversation is read to sort it')
  const unindexed: any = await Message.find({}).sort({ body: -1 }).limit(3).explain('queryPlanner')
  t.same(stageNames(unindexed.queryPlanner.winningPlan), ['SORT', 'COLLSCAN'])
})

t.test('skip and limit over an index walk', async (t) => {
  const ex: any = await Message.find({ conversationId: conv }).sort({ createdAt: 1, _id: 1 }).skip(5).limit(10).explain('executionStats')
  // MongoDB may put SKIP under FETCH (skipping index keys unfetched); the engine fetches, then skips
  const names = stageNames(ex.queryPlanner.winningPlan)
  t.equal(names[0], 'LIMIT')
  t.same([...names].sort(), ['FETCH', 'IXSCAN', 'LIMIT', 'SKIP'], `plan: ${names.join(' > ')}`)
  const skip = planStages(ex.queryPlanner.winningPlan).find(s => s.stage === 'SKIP')
  t.equal(skip.skipAmount, 5)
  t.equal(ex.executionStats.nReturned, 10)
  t.ok(ex.executionStats.totalDocsExamined <= 15, `examined ${ex.executionStats.totalDocsExamined}`)
})

t.test('aggregate explain shows the index its $match walks', async (t) => {
  const ex: any = await Message.aggregate([
    { $match: { conversationId: conv } },
    { $sort: { createdAt: -1, _id: -1 } },
    { $limit: 10 }
  ]).explain('executionStats')
  t.equal(ex.ok, 1)
  const find = findExplain(ex)
  const names = stageNames(find.queryPlanner.winningPlan)
  t.ok(names.includes('IXSCAN'), `plan: ${names.join(' > ')}`)
  t.notOk(names.includes('SORT'), 'the index gives the order')
  t.equal(planStages(find.queryPlanner.winningPlan).find(s => s.stage === 'IXSCAN').indexName, INDEX)
  t.equal(find.executionStats.nReturned, 10)
  t.ok(find.executionStats.totalDocsExamined <= 10)

  const grouped: any = await Message.aggregate([
    { $match: { conversationId: conv } },
    { $group: { _id: null, n: { $sum: 1 } } }
  ]).explain()
  const groupedPlan = findExplain(grouped).queryPlanner.winningPlan
  t.equal(planStages(groupedPlan).find(s => s.stage === 'IXSCAN')?.indexName, INDEX, 'a $group after the $match: still the index')

  const scanned: any = await Message.aggregate([{ $match: { body: 'message 3' } }]).explain('queryPlanner')
  t.ok(stageNames(findExplain(scanned).queryPlanner.winningPlan).includes('COLLSCAN'))
})

t.test('the aggregate command with explain: true', async (t) => {
  const ex: any = await connection.db!.command({
    aggregate: 'explain_messages',
    pipeline: [{ $match: { conversationId: conv, createdAt: { $lt: new Date(base + 100_000) } } }],
    explain: true
  })
  t.equal(ex.ok, 1)
  const find = findExplain(ex)
  t.equal(find.executionStats, undefined, 'queryPlanner verbosity')
  t.equal(planStages(find.queryPlanner.winningPlan).find(s => s.stage === 'IXSCAN')?.indexName, INDEX)
})

t.test('explain runs nothing the query would return and refuses a bad verbosity', async (t) => {
  const ex: any = await Message.find({ conversationId: conv }).explain('allPlansExecution')
  t.notOk(Array.isArray(ex), 'a plan, not documents')
  t.equal(ex.executionStats.nReturned, TOTAL / 10)
  await t.rejects(connection.db!.command({ explain: { find: 'explain_messages', filter: {} }, verbosity: 'everything' }))
})
