// snapshot() and applyRecord(): a fresh store fed the snapshot (or the stream of emitted records)
// answers finds identically, indexes included; the snapshot is frozen at call time.
import t, { type Test } from 'tap'
import { BSON, Int32, ObjectId } from 'bson'
import { MemoryStore } from '../../../src/storage/embedded/store.js'
import type { Document, JournalRecord } from '../../../src/storage/embedded/store.types.js'

async function populated (): Promise<{ store: MemoryStore; log: JournalRecord[] }> {
  const log: JournalRecord[] = []
  const store = new MemoryStore({ durability: { append: async (r) => { log.push(...r) } } })
  await store.createCollection('app', 'capped', { capped: true, size: 4096 })
  await store.createIndexes('app', 'messages', [
    { key: { conversationId: 1, seq: 1 }, name: 'conversationId_1_seq_1', unique: true },
    { key: { senderId: 1 }, name: 'senderId_1', sparse: true }
  ])
  const convs = [new ObjectId(), new ObjectId()]
  await store.insert('app', 'messages', Array.from({ length: 40 }, (_, i) => ({
    conversationId: convs[i % 2], seq: new Int32(i), senderId: i % 3 === 0 ? undefined : `u${i % 3}`, body: `m${i}`
  })).map(d => { if (d.senderId === undefined) delete d.senderId; return d }), true)
  await store.update('app', 'messages', [{ q: { seq: { $lt: 5 } }, u: { $set: { edited: true } }, multi: true }], true)
  await store.delete('app', 'messages', [{ q: { seq: { $gte: 35 } }, limit: 0 }], true)
  await store.insert('other', 'users', [{ _id: 'u1', name: 'Ann' }], true)
  await store.dropIndexes('app', 'messages', 'senderId_1')
  await store.createIndexes('app', 'messages', [{ key: { body: 1 }, name: 'body_1' }])
  return { store, log }
}

const QUERIES: Array<[string, string, Document]> = [
  ['app', 'messages', { sort: { seq: -1 }, limit: 10 }],
  ['app', 'messages', { filter: { edited: true } }],
  ['app', 'messages', { filter: { seq: { $gte: 30 } }, sort: { body: 1 } }],
  ['other', 'users', {}]
]

function sameState (t: Test, a: MemoryStore, b: MemoryStore): void {
  for (const [db, coll, q] of QUERIES) {
    t.same(BSON.serialize({ r: b.find(db, coll, q) }), BSON.serialize({ r: a.find(db, coll, q) }), `find ${db}.${coll} ${JSON.stringify(q)}`)
  }
  t.same(b.listIndexes('app', 'messages'), a.listIndexes('app', 'messages'))
  t.same(b.listCollections('app'), a.listCollections('app'))
  t.equal(b.documentCount(), a.documentCount())
}

t.test('snapshot into a fresh store gives identical finds and indexes', async t => {
  const { store } = await populated()
  const copy = new MemoryStore()
  for (const r of store.snapshot()) copy.applyRecord(r)
  sameState(t, store, copy)
  // the restored unique index is enforced
  const dup = store.find('app', 'messages', { limit: 1 })[0]
  const res = await copy.insert('app', 'messages', [{ conversationId: dup.conversationId, seq: dup.seq }], true)
  t.equal(res.writeErrors[0]?.code, 11000)
  t.equal(copy.explainFind('app', 'messages', { filter: { body: 'm3' } }).index, 'body_1')
})

t.test('replaying the emitted records reproduces the state', async t => {
  const { store, log } = await populated()
  const copy = new MemoryStore()
  for (const r of log) copy.applyRecord(r)
  sameState(t, store, copy)
})

t.test('the snapshot is taken at call time; later writes do not show through', async t => {
  const { store } = await populated()
  const snap = store.snapshot()
  await store.insert('app', 'messages', [{ conversationId: new ObjectId(), seq: new Int32(1000) }], true)
  await store.update('app', 'messages', [{ q: {}, u: { $set: { late: true } }, multi: true }], true)
  await store.createIndexes('app', 'messages', [{ key: { late: 1 }, name: 'late_1' }])
  await store.dropCollection('other', 'users')
  const records = [...snap]
  t.notOk(records.some(r => r.t === 'put' && (r.doc.late === true || r.doc.seq?.value === 1000)))
  t.notOk(records.some(r => r.t === 'createIndex' && r.spec.name === 'late_1'))
  t.ok(records.some(r => r.t === 'put' && r.db === 'other'))
  // order: a collection's createColl, then its indexes, then its documents
  const kinds = records.filter(r => r.t !== 'put' || r.coll === 'messages').map(r => r.t)
  t.ok(kinds.indexOf('createIndex') < kinds.indexOf('put'))
  t.same(records.find(r => r.t === 'createColl' && r.coll === 'capped'), { t: 'createColl', db: 'app', coll: 'capped', options: { capped: true, size: 4096 } })
})

t.test('applyRecord handles del, dropColl, dropDb and puts that replace', async t => {
  const s = new MemoryStore()
  s.applyRecord({ t: 'put', db: 'd', coll: 'c', doc: { _id: 1, v: 1 } })
  s.applyRecord({ t: 'createIndex', db: 'd', coll: 'c', spec: { key: { v: 1 }, name: 'v_1' } })
  s.applyRecord({ t: 'put', db: 'd', coll: 'c', doc: { _id: 1, v: 2 } })
  s.applyRecord({ t: 'put', db: 'd', coll: 'c', doc: { _id: 2, v: 3 } })
  t.same(s.find('d', 'c', { filter: { v: 2 } }), [{ _id: 1, v: 2 }])
  t.same(s.find('d', 'c', { filter: { v: 1 } }), [], 'the replaced key is gone from the index')
  s.applyRecord({ t: 'del', db: 'd', coll: 'c', id: 1 })
  t.same(s.find('d', 'c', {}), [{ _id: 2, v: 3 }])
  s.applyRecord({ t: 'dropIndex', db: 'd', coll: 'c', name: 'v_1' })
  t.same(s.listIndexes('d', 'c').map(i => i.name), ['_id_'])
  s.applyRecord({ t: 'dropColl', db: 'd', coll: 'c' })
  t.same(s.listCollections('d'), [])
  s.applyRecord({ t: 'put', db: 'e', coll: 'c', doc: { _id: 1 } })
  s.applyRecord({ t: 'dropDb', db: 'e' })
  t.equal(s.documentCount(), 0)
})
