// The command set, driven through the real mongodb driver (mongoose.mongo) against the real server.
import t from 'tap'
import mongoose from 'mongoose'
import { startEmbeddedMongo } from '../../../src/storage/embedded/index.js'

const { MongoClient, MongoServerError, MongoBulkWriteError, Long, BSON } = mongoose.mongo

const server = await startEmbeddedMongo()
t.teardown(() => server.close())

const client = new MongoClient(server.url, { monitorCommands: true })
await client.connect()
t.teardown(() => client.close())
const db = client.db('cmds')
const replies: any[] = []
client.on('commandSucceeded', e => replies.push(e))
const lastReply = (name: string): any => [...replies].reverse().find(e => e.commandName === name)?.reply

t.test('handshake and diagnostics', async t => {
  t.match(server.url, /^mongodb:\/\/127\.0\.0\.1:\d+\/\?directConnection=true$/, 'loopback URL')
  t.equal(server.host, '127.0.0.1')
  const hello = await db.admin().command({ hello: 1 })
  t.equal(hello.isWritablePrimary, true)
  t.equal(hello.helloOk, true)
  t.equal(hello.maxBsonObjectSize, 16777216)
  t.equal(hello.maxMessageSizeBytes, 48000000)
  t.equal(hello.maxWriteBatchSize, 100000)
  t.equal(hello.minWireVersion, 0)
  t.equal(hello.maxWireVersion, 21)
  t.equal(hello.readOnly, false)
  t.type(hello.localTime, Date)
  t.type(hello.connectionId, 'number')
  t.notOk('logicalSessionTimeoutMinutes' in hello)
  const info = await db.admin().command({ buildInfo: 1 })
  t.equal(info.version, '7.0.0')
  t.same(info.versionArray, [7, 0, 0, 0])
  t.equal((await db.admin().command({ ping: 1 })).ok, 1)
  t.match(await db.admin().command({ whatsmyuri: 1 }), { you: /^127\.0\.0\.1:\d+$/ })
  t.same((await db.admin().command({ connectionStatus: 1 })).authInfo.authenticatedUsers, [])
  t.equal((await db.admin().command({ getParameter: 1, featureCompatibilityVersion: 1 })).featureCompatibilityVersion.version, '7.0')
  const status = await db.admin().command({ serverStatus: 1 })
  t.ok(status.connections.current >= 1)
  t.equal((await db.admin().command({ endSessions: [] })).ok, 1)
})

t.test('unknown command answers 59 CommandNotFound', async t => {
  await t.rejects(db.command({ frobnicate: 1 }), { code: 59, codeName: 'CommandNotFound', message: "no such command: 'frobnicate'" })
})

t.test('catalog: create, listCollections, drop, listDatabases, dropDatabase', async t => {
  await db.createCollection('alpha')
  await t.rejects(db.command({ create: 'alpha' }), { code: 48 }, 'NamespaceExists from the store')
  await db.collection('beta').insertOne({ x: 1 })
  const names = (await db.listCollections({}, { nameOnly: true }).toArray()).map(c => c.name).sort()
  t.same(names, ['alpha', 'beta'])
  const filtered = await db.listCollections({ name: 'alpha' }).toArray()
  t.equal(filtered.length, 1)
  t.equal(filtered[0].type, 'collection')
  t.equal(lastReply('listCollections').cursor.ns, 'cmds.$cmd.listCollections')
  const dbs = await db.admin().listDatabases()
  t.ok(dbs.databases.some(d => d.name === 'cmds'))
  t.equal(await db.collection('alpha').drop(), true)
  t.equal(await db.collection('never-was').drop(), true, 'dropping a missing collection is ok on 7.0')
  const other = client.db('dropme')
  await other.collection('c').insertOne({ a: 1 })
  t.equal(await other.dropDatabase(), true)
  t.notOk((await db.admin().listDatabases({ nameOnly: true })).databases.some(d => d.name === 'dropme'))
})

t.test('indexes: createIndexes, listIndexes, unique violation, dropIndexes', async t => {
  const coll = db.collection('people')
  t.equal(await coll.createIndex({ email: 1 }, { unique: true }), 'email_1')
  const indexes = await coll.listIndexes().toArray()
  t.same(indexes.map(i => i.name), ['_id_', 'email_1'])
  t.equal(indexes[0].v, 2)
  t.equal(indexes[1].unique, true)
  await coll.insertOne({ email: 'a@x' })
  const err = await coll.insertOne({ email: 'a@x' }).catch(e => e)
  t.type(err, MongoServerError)
  t.equal(err.code, 11000)
  t.same(err.keyValue, { email: 'a@x' })
  const bulk = await coll.insertMany([{ email: 'b@x' }, { email: 'a@x' }, { email: 'c@x' }], { ordered: false }).catch(e => e)
  t.type(bulk, MongoBulkWriteError)
  t.equal(bulk.result.insertedCount, 2, 'unordered: the others went in')
  t.equal(bulk.writeErrors[0].index, 1)
  t.equal(lastReply('insert').ok, 1, 'a duplicate is ok:1 with writeErrors')
  await coll.dropIndex('email_1')
  t.same((await coll.listIndexes().toArray()).map(i => i.name), ['_id_'])
  await t.rejects(db.collection('nope').listIndexes().toArray(), { code: 26 })
})

t.test('CRUD replies are shaped like MongoDB', async t => {
  const coll = db.collection('crud')
  await coll.insertMany([{ _id: 1, n: 1 }, { _id: 2, n: 2 }, { _id: 3, n: 3 }] as never[])
  const upd = await coll.updateMany({ n: { $gte: 2 } }, { $inc: { n: 10 } })
  t.equal(upd.matchedCount, 2)
  t.equal(upd.modifiedCount, 2)
  t.notOk('upserted' in lastReply('update'), 'no upserted field when nothing was upserted')
  const ups = await coll.updateOne({ _id: 9 } as never, { $set: { n: 9 } }, { upsert: true })
  t.equal(ups.upsertedId, 9)
  t.same(lastReply('update').upserted, [{ index: 0, _id: 9 }])
  const fam = await coll.findOneAndUpdate({ _id: 1 } as never, { $set: { n: 100 } }, { returnDocument: 'after', includeResultMetadata: true })
  t.same(fam.value, { _id: 1, n: 100 })
  t.equal(fam.lastErrorObject?.updatedExisting, true)
  const removed = await coll.findOneAndDelete({ _id: 9 } as never)
  t.same(removed, { _id: 9, n: 9 })
  t.equal(await coll.countDocuments({ n: { $gt: 10 } }), 3)
  t.equal(await coll.estimatedDocumentCount(), 3)
  t.same((await coll.distinct('n')).sort((a, b) => a - b), [12, 13, 100])
  const agg = await coll.aggregate([{ $group: { _id: null, total: { $sum: '$n' } } }]).toArray()
  t.same(agg, [{ _id: null, total: 125 }])
  const del = await coll.deleteMany({ n: { $lt: 50 } })
  t.equal(del.deletedCount, 2)
  t.same(await coll.find({}, { projection: { _id: 0 } }).toArray(), [{ n: 100 }])
})

t.test('w:0 writes (moreToCome) are executed', async t => {
  const coll = db.collection('w0')
  await coll.insertOne({ _id: 'fire-and-forget' } as never, { writeConcern: { w: 0 } })
  // The same connection processes requests in order, so a read after it sees it.
  t.same(await coll.findOne({}), { _id: 'fire-and-forget' })
})

t.test('getMore pages 1,000 docs in batches of 100; killCursors; CursorNotFound', async t => {
  const coll = db.collection('paging')
  await coll.insertMany(Array.from({ length: 1000 }, (_, i) => ({ _id: i })) as never[])
  replies.length = 0
  const all = await coll.find({}).sort({ _id: 1 }).batchSize(100).toArray()
  t.equal(all.length, 1000)
  t.same(all.map(d => d._id), Array.from({ length: 1000 }, (_, i) => i))
  t.equal(lastReply('find').cursor.firstBatch.length, 100)
  const getMores = replies.filter(e => e.commandName === 'getMore')
  t.equal(getMores.length, 9)
  t.ok(getMores.every(e => e.reply.cursor.nextBatch.length === 100))
  t.equal(String(getMores[8].reply.cursor.id), '0', 'exhausted cursor has id 0')

  const first = await db.command({ find: 'paging', batchSize: 10 })
  const id = first.cursor.id instanceof Long ? first.cursor.id : Long.fromNumber(Number(first.cursor.id))
  t.not(String(id), '0')
  const more = await db.command({ getMore: id, collection: 'paging', batchSize: 5 })
  t.equal(more.cursor.nextBatch.length, 5)
  await t.rejects(db.command({ getMore: id, collection: 'other' }), { code: 13 }, 'namespace must match')
  const killed = await db.command({ killCursors: 'paging', cursors: [id, Long.fromNumber(12345)] })
  t.same(killed.cursorsKilled.map(String), [String(id)])
  t.same(killed.cursorsNotFound.map(String), ['12345'])
  t.same(killed.cursorsAlive, [])
  t.same(killed.cursorsUnknown, [])
  await t.rejects(db.command({ getMore: id, collection: 'paging' }), { code: 43, codeName: 'CursorNotFound' })

  const single = await db.command({ find: 'paging', batchSize: 3, singleBatch: true })
  t.equal(single.cursor.firstBatch.length, 3)
  t.equal(String(single.cursor.id), '0', 'singleBatch leaves no cursor')
})

t.test('idle cursors are closed after cursorTimeoutMs', async t => {
  const quick = await startEmbeddedMongo({ cursorTimeoutMs: 50 })
  t.teardown(() => quick.close())
  const c = new MongoClient(quick.url)
  await c.connect()
  t.teardown(() => c.close())
  const qdb = c.db('q')
  await qdb.collection('c').insertMany(Array.from({ length: 10 }, (_, i) => ({ _id: i })) as never[])
  const first = await qdb.command({ find: 'c', batchSize: 2 })
  t.not(String(first.cursor.id), '0')
  await new Promise(resolve => setTimeout(resolve, 300))
  await t.rejects(qdb.command({ getMore: Long.fromValue(first.cursor.id), collection: 'c' }), { code: 43 })
})

t.test('replies stay under the 16 MiB budget: big documents split across batches', async t => {
  const coll = db.collection('big')
  // Five of these come to 40 bytes under 16 MiB: the documents alone would fit, the reply would not.
  const MiB16 = 16 * 1024 * 1024
  const docSize = Math.floor((MiB16 - 40) / 5)
  for (let i = 0; i < 8; i++) {
    const doc = { _id: i, pad: '' }
    doc.pad = 'x'.repeat(docSize - BSON.calculateObjectSize(doc))
    await coll.insertOne(doc as never)
  }
  replies.length = 0
  const docs = await coll.find({}).toArray()
  t.equal(docs.length, 8)
  const reply = lastReply('find')
  t.equal(reply.cursor.firstBatch.length, 4, 'the fifth document would push the reply past 16 MiB')
  t.ok(BSON.calculateObjectSize(reply) <= MiB16, 'reply within 16 MiB')
  const getMores = replies.filter(e => e.commandName === 'getMore')
  t.same(getMores.map(e => e.reply.cursor.nextBatch.length), [4])
  t.ok(getMores.every(e => BSON.calculateObjectSize(e.reply) <= MiB16))
  await coll.drop()
})

t.test('store errors become command errors; bad arguments too', async t => {
  await t.rejects(db.command({ find: 'crud', skip: -1 }), { code: 2 })
  await t.rejects(db.command({ find: 'crud', filter: 'nope' }), { code: 14 })
  await t.rejects(db.command({ delete: 'crud', deletes: [{ q: {}, limit: 5 }] }), { code: 9 })
  await t.rejects(db.command({ aggregate: 'crud', pipeline: [] }), { code: 9 }, 'cursor option required')
  await t.rejects(db.command({ findAndModify: 'crud', query: {} }), { code: 9 })
  t.equal((await db.admin().command({ ping: 1 })).ok, 1, 'server still fine')
})
