/**
 * Every filter combination an admin uses is served by an index, read from the database's own plan (MongoDB's
 * `explain` through the driver): an IXSCAN on the expected index (a SORT_MERGE of them for a participant), no
 * in-memory SORT, and a page that examines about as many documents as it returns.
 */
import t from 'tap'
import { Types } from 'mongoose'
import { adminWorld } from './admin-kit.js'
import { planStages, stageNames } from '../../conformance/plan-stages.js'

t.test('the admin history filters walk indexes in (createdAt, _id) order and stop at the page', async t => {
  const { app, alice, bob, carol, directId, groupId } = await adminWorld(t)
  // 3,000 messages over a year in the two conversations, straight into the collection.
  const start = Date.UTC(2026, 0, 1)
  const senders = [alice.id, bob.id, carol.id]
  await app.models.Message.collection.insertMany(Array.from({ length: 3000 }, (_, i) => ({
    _id: new Types.ObjectId(), conversationId: new Types.ObjectId(i % 2 === 0 ? directId : groupId), seq: i + 1,
    senderId: new Types.ObjectId(i % 2 === 0 ? senders[i % 2] : senders[i % 3]), body: `message ${i}`, attachments: [],
    createdAt: new Date(start + i * 3 * 3600_000)
  })))
  const range = { from: '2026-03-01T00:00:00Z', to: '2026-06-01T00:00:00Z' }
  const cases: Array<[string, Record<string, unknown>, string, boolean]> = [
    // [what, filters, index, whether every walked document matches (no residual filter)]
    ['no filter', {}, 'createdAt_1__id_1', false],
    ['a date range', range, 'createdAt_1__id_1', false],
    ['sender + range', { senderId: bob.id, ...range }, 'senderId_1_createdAt_1__id_1', false],
    ['conversation + range', { conversationId: groupId, ...range }, 'conversationId_1_createdAt_1__id_1', false],
    ['conversation + q', { conversationId: groupId, q: 'message 1' }, 'conversationId_1_createdAt_1__id_1', true],
    ['participant + range', { participantId: alice.id, ...range }, 'conversationId_1_createdAt_1__id_1', false],
    ['sender + conversation, descending', { senderId: alice.id, conversationId: directId, order: 'desc' }, 'senderId_1_createdAt_1__id_1', false]
  ]
  for (const [what, filters, index, residual] of cases) {
    const explain = await app.admin.history.explain({ ...filters, limit: 50 }) as any
    const stages = planStages(explain.queryPlanner.winningPlan)
    const scans = stages.filter(stage => stage.stage === 'IXSCAN')
    t.ok(scans.length > 0, `${what}: an index scan (${stageNames(explain.queryPlanner.winningPlan).join(' > ')})`)
    t.ok(scans.every(stage => stage.indexName === index || (what.startsWith('sender + conversation') && stage.indexName === 'conversationId_1_createdAt_1__id_1')), `${what}: on ${index} (${scans.map(s => s.indexName).join(', ')})`)
    t.notOk(stageNames(explain.queryPlanner.winningPlan).includes('SORT'), `${what}: no in-memory sort`)
    t.notOk(stageNames(explain.queryPlanner.winningPlan).includes('COLLSCAN'), `${what}: no collection scan`)
    const { nReturned, totalDocsExamined } = explain.executionStats
    t.equal(nReturned, 51, `${what}: a full page (limit + 1)`)
    if (!residual) t.ok(totalDocsExamined <= 2 * nReturned + 10, `${what}: examined ${totalDocsExamined} for ${nReturned}`)
    else t.ok(totalDocsExamined < 1500, `${what}: the walk is one conversation's, not the store (${totalDocsExamined})`)
  }
  // alice is in both conversations: one walk per conversation, merged in order.
  const merged = await app.admin.history.explain({ participantId: alice.id, ...range, limit: 50 }) as any
  t.ok(stageNames(merged.queryPlanner.winningPlan).includes('SORT_MERGE'), 'a participant of two: SORT_MERGE')
  t.equal(planStages(merged.queryPlanner.winningPlan).filter(stage => stage.stage === 'IXSCAN').length, 2, 'over two index walks')
})
