// explain's plan trees (explain-plan.ts) for the shapes the conformance tests do not reach through mongoose:
// the _id lookup, a missing collection, $or unions, index bounds of every kind, the FETCH filter, aggregate's two
// reply forms, and the explain command's argument errors.
import t from 'tap'
import { ObjectId } from 'bson'
import { CursorRegistry } from '../../../src/storage/embedded/cursors.js'
import { MemoryStore } from '../../../src/storage/embedded/store.js'
import { runCommand } from '../../../src/storage/embedded/commands/command-router.js'
import type { CommandContext } from '../../../src/storage/embedded/commands/command-context.js'
import type { Document } from '../../../src/storage/embedded/store.types.js'

const store = new MemoryStore()
await store.createIndexes('db', 'm', [
  { key: { conv: 1, seq: 1 }, name: 'conv_seq' },
  { key: { g: 1, at: -1 }, name: 'g_at' },
  { key: { name: 1 }, name: 'name_1' },
  { key: { tags: 1 }, name: 'tags_1' }
])
const convs = [new ObjectId(), new ObjectId()]
const base = Date.UTC(2026, 0, 1)
await store.insert('db', 'm', Array.from({ length: 200 }, (_, i) => ({
  _id: i, conv: convs[i % 2], seq: i, g: `g${i % 4}`, at: new Date(base + i * 1000), name: `n${i % 10}`, tags: [`t${i % 3}`, `t${(i + 1) % 3}`], body: `b${i}`
})), true)

const plan = (filter: Document, extra: Document = {}): Document =>
  store.explain('db', 'm', { filter, ...extra }, 'executionStats')

t.test('an _id equality is an IDHACK; a missing collection is EOF', async t => {
  const ex = plan({ _id: 7 })
  t.same(ex.queryPlanner.winningPlan, { stage: 'IDHACK' })
  t.match(ex.executionStats, { nReturned: 1, totalKeysExamined: 1, totalDocsExamined: 1, executionStages: { stage: 'IDHACK', keysExamined: 1, docsExamined: 1 } })
  const none = store.explain('db', 'nothing', { filter: { a: 1 } }, 'executionStats')
  t.same(none.queryPlanner.winningPlan, { stage: 'EOF' })
  t.equal(none.executionStats.nReturned, 0)
})

t.test('index bounds as MongoDB prints them', async t => {
  const bounds = (filter: Document, extra: Document = {}): Document => {
    let s = plan(filter, extra).queryPlanner.winningPlan
    while (s.stage !== 'IXSCAN') s = s.inputStage
    return s.indexBounds
  }
  t.same(bounds({ conv: convs[0], seq: { $gt: 5 } }), {
    conv: [`[ObjectId('${convs[0].toHexString()}'), ObjectId('${convs[0].toHexString()}')]`], seq: ['(5, inf.0]']
  }, 'a one-sided number range runs to the end of the numbers')
  t.same(bounds({ conv: { $in: convs }, seq: { $lte: 9 } }, { sort: { conv: -1, seq: -1 } }).seq, ['[9, -inf.0]'], 'a backward walk lists bounds high to low')
  t.same(bounds({ name: { $gte: 'n3', $lt: 'n5' } }).name, ['["n3", "n5")'])
  t.same(bounds({ name: { $gte: 'n3' } }).name, ['["n3", {})'], 'strings end before objects begin')
  t.same(bounds({ g: 'g1', at: { $gte: new Date(base) } }).at, [`[new Date(9223372036854775807), new Date(${base})]`], 'a descending field, forward walk')
  t.same(bounds({ g: 'g1' }).at, ['[MaxKey, MinKey]'])
  t.same(bounds({ name: { $in: [] } }).name, [], 'an empty $in walks nothing')
  t.same(bounds({ name: { $in: ['n2', 'n1'] } }).name, ['["n1", "n1"]', '["n2", "n2"]'])
})

t.test('the FETCH filter holds what the bounds do not answer', async t => {
  const fetch = plan({ conv: convs[1], seq: { $lt: 50 }, body: /b1/ }).queryPlanner.winningPlan
  t.equal(fetch.stage, 'FETCH')
  t.same(fetch.filter, { body: { $regex: 'b1' } })
  t.equal(plan({ conv: convs[1], seq: { $lt: 50 } }).queryPlanner.winningPlan.filter, undefined, 'nothing left to check')
  const multikey = plan({ tags: { $gt: 't0', $lt: 't2' } }).queryPlanner.winningPlan
  t.same(multikey.filter, { $and: [{ tags: { $gt: 't0' } }, { tags: { $lt: 't2' } }] }, 'a multikey range is re-checked')
  t.equal(multikey.inputStage.isMultiKey, true)
  t.ok(multikey.inputStage.indexBounds.tags[0].startsWith('("t0", '), 'a multikey range keeps only its low side')
})

t.test('an $or of indexed branches is an OR of index walks', async t => {
  const ex = plan({ $or: [{ name: 'n1' }, { tags: 't2' }] })
  const or = ex.queryPlanner.winningPlan.inputStage
  t.equal(or.stage, 'OR')
  t.same(or.inputStages.map((s: Document) => s.indexName), ['name_1', 'tags_1'])
  const expected = (await store.find('db', 'm', { filter: { $or: [{ name: 'n1' }, { tags: 't2' }] } })).length
  t.equal(ex.executionStats.nReturned, expected)
  t.ok(ex.executionStats.executionStages.inputStage.dupsDropped > 0, 'documents both branches found are dropped once')
})

t.test('collection scans, verbosities, aggregate forms', async t => {
  const back = store.explain('db', 'm', { filter: { body: 'b3' }, sort: { $natural: -1 } }, 'allPlansExecution')
  t.same(back.queryPlanner.winningPlan, { stage: 'COLLSCAN', filter: { body: { $eq: 'b3' } }, direction: 'backward' })
  t.same(back.executionStats.allPlansExecution, [])
  t.equal(store.explain('db', 'm', {}, 'queryPlanner').executionStats, undefined)
  const projected = store.explain('db', 'm', { filter: { body: 'b4' }, projection: { body: 1 } }, 'executionStats')
  t.same(projected.queryPlanner.winningPlan.stage, 'PROJECTION_SIMPLE')
  t.same(projected.queryPlanner.winningPlan.transformBy, { body: 1 })
  t.match(projected.executionStats.executionStages.inputStage, { stage: 'COLLSCAN', works: 201, advanced: 1, needTime: 199 })
  t.equal(store.explain('db', 'm', { projection: { 'a.b': 1 } }, 'queryPlanner').queryPlanner.winningPlan.stage, 'PROJECTION_DEFAULT')
  const whole = store.explainAggregate('db', 'm', [{ $match: { conv: convs[0] } }, { $sort: { seq: -1 } }, { $limit: 3 }], 'executionStats')
  t.equal(whole.queryPlanner.winningPlan.stage, 'LIMIT', 'a pipeline that is all find: top-level queryPlanner')
  const staged = store.explainAggregate('db', 'm', [{ $match: { conv: convs[0] } }, { $count: 'n' }], 'executionStats')
  t.equal(staged.stages[0].$cursor.queryPlanner.winningPlan.inputStage.indexName, 'conv_seq')
  t.equal(staged.stages[0].nReturned, 100)
  t.same(staged.stages[1], { $count: 'n' })
  t.throws(() => store.explainAggregate('db', 'm', [{ $nope: 1 }], 'queryPlanner'), { code: 40324 })
})

t.test('the explain command: forms, defaults and errors', async t => {
  const cursors = new CursorRegistry({ cursorTimeoutMs: 60_000 })
  t.teardown(() => cursors.closeAll())
  const ctx: CommandContext = {
    store,
    cursors,
    logger: { debug () {}, info () {}, warn () {}, error () {} },
    db: 'db',
    connectionId: 1,
    remote: '127.0.0.1:1',
    startedAt: Date.now(),
    stats: () => ({ maxMessageBytes: 48_000_000, maxConnections: 1000, currentConnections: 1, totalConnections: 1, openCursors: 0 })
  }
  const find = await runCommand({ explain: { find: 'm', filter: { name: 'n4' }, limit: 2 } }, ctx)
  t.match(find, { ok: 1, explainVersion: '1', command: { find: 'm', $db: 'db' }, executionStats: { nReturned: 2, allPlansExecution: [] } }, 'default verbosity: allPlansExecution')
  t.equal(find.queryPlanner.winningPlan.stage, 'LIMIT')
  const legacy = await runCommand({ aggregate: 'm', pipeline: [{ $match: { name: 'n4' } }], explain: true }, ctx)
  t.equal(legacy.ok, 1)
  t.equal(legacy.executionStats, undefined, 'explain: true plans only')
  t.equal(legacy.queryPlanner.winningPlan.inputStage.indexName, 'name_1')
  const extended = await runCommand({ explain: { find: 'm' }, verbosity: 'queryPlannerExtended' }, ctx)
  t.equal(extended.executionStats, undefined)
  t.match(await runCommand({ explain: { count: 'm' } }, ctx), { ok: 0, code: 2, errmsg: /count/ })
  t.match(await runCommand({ explain: { frob: 'm' } }, ctx), { ok: 0, code: 59 })
  t.match(await runCommand({ explain: 1 }, ctx), { ok: 0, code: 14 })
  t.match(await runCommand({ explain: null }, ctx), { ok: 0, code: 2 })
  t.match(await runCommand({ explain: { find: 'm' }, verbosity: 'all' }, ctx), { ok: 0, code: 2 })
  t.match(await runCommand({ explain: { aggregate: 1, pipeline: [] } }, ctx), { ok: 0, code: 2 })
})
