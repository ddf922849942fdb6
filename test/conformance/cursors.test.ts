// Cursors: the 101-document first batch, getMore paging, killCursors, CursorNotFound.
import t from 'tap'
import mongoose from 'mongoose'
import { startTestMongo } from '../helpers/mongo.js'

const { Long } = mongoose.mongo
const mongo = await startTestMongo(t)
const { db, connection } = mongo

// A client of our own that reports every command it sends and every reply.
const client = await mongo.openClient({ monitorCommands: true })
const mdb = client.db(mongo.dbName)
const started: any[] = []
const succeeded: any[] = []
client.on('commandStarted', (e) => started.push(e))
client.on('commandSucceeded', (e) => succeeded.push(e))
// Command replies promote small Longs to numbers; getMore/killCursors need the id as a BSON long.
const asLong = (id: unknown): InstanceType<typeof Long> =>
  id instanceof Long ? id : typeof id === 'bigint' ? Long.fromBigInt(id) : Long.fromNumber(Number(id))
const clearLog = (): void => { started.length = 0; succeeded.length = 0 }

const N = 250
await db.collection('many').insertMany(Array.from({ length: N }, (_, i) => ({ _id: i, n: i, pad: 'x'.repeat(100) })) as never[])

t.test('default find returns 101 docs in the first batch, the rest by getMore', async (t) => {
  clearLog()
  const docs = await mdb.collection('many').find({}, { sort: { _id: 1 } }).toArray()
  t.equal(docs.length, N)
  t.same(docs.map((d) => d._id), Array.from({ length: N }, (_, i) => i), 'every doc once, in order')
  const find = succeeded.find((e) => e.commandName === 'find')
  t.equal(find?.reply.cursor.firstBatch.length, 101)
  t.not(String(find?.reply.cursor.id), '0', 'an open cursor id')
  t.equal(find?.reply.cursor.ns, `${mongo.dbName}.many`)
  const getMores = succeeded.filter((e) => e.commandName === 'getMore')
  t.ok(getMores.length >= 1, 'getMore was used')
  const last = getMores[getMores.length - 1]
  t.equal(String(last.reply.cursor.id), '0', 'cursor id 0 once exhausted')
  t.equal(started.filter((e) => e.commandName === 'killCursors').length, 0, 'an exhausted cursor needs no killCursors')
})

t.test('batchSize controls every batch', async (t) => {
  clearLog()
  const cursor = mdb.collection('many').find({ n: { $gte: 20 } }, { sort: { n: -1 }, batchSize: 50 })
  const seen: number[] = []
  for await (const d of cursor) seen.push(d.n)
  t.equal(seen.length, N - 20)
  t.equal(seen[0], N - 1)
  t.equal(seen[seen.length - 1], 20)
  t.equal(new Set(seen).size, seen.length, 'no duplicates across batches')
  const batches = succeeded
    .filter((e) => e.commandName === 'find' || e.commandName === 'getMore')
    .map((e) => (e.reply.cursor.firstBatch ?? e.reply.cursor.nextBatch).length)
  t.same(batches, [50, 50, 50, 50, 30])
})

t.test('mongoose cursor over > 101 docs', async (t) => {
  const M = connection.model('ManyDoc', new mongoose.Schema({ _id: Number, n: Number }), 'many')
  let count = 0
  let prev = -1
  let ordered = true
  for await (const d of M.find().sort({ n: 1 }).batchSize(40).cursor()) {
    if (d.n !== prev + 1) ordered = false
    prev = d.n as number
    count++
  }
  t.equal(count, N)
  t.ok(ordered, 'docs arrive in sort order across batches')
})

t.test('raw find / getMore / killCursors commands', async (t) => {
  const first = await db.command({ find: 'many', filter: {}, sort: { _id: 1 }, batchSize: 5 })
  t.equal(first.cursor.firstBatch.length, 5)
  t.same(first.cursor.firstBatch.map((d: any) => d._id), [0, 1, 2, 3, 4])
  const id = asLong(first.cursor.id)
  t.not(String(id), '0')

  const more = await db.command({ getMore: id, collection: 'many', batchSize: 7 })
  t.same(more.cursor.nextBatch.map((d: any) => d._id), [5, 6, 7, 8, 9, 10, 11])
  t.equal(String(more.cursor.id), String(id), 'same cursor id while open')
  t.equal(more.cursor.ns, `${mongo.dbName}.many`)

  const killed = await db.command({ killCursors: 'many', cursors: [id] })
  t.same(killed.cursorsKilled.map(String), [String(id)])
  t.same(killed.cursorsNotFound, [])

  const err = await db.command({ getMore: id, collection: 'many' }).then(() => null, (e: unknown) => e) as any
  t.equal(err?.code, 43, 'getMore on a killed cursor: CursorNotFound')

  const again = await db.command({ killCursors: 'many', cursors: [id] })
  t.same(again.cursorsNotFound.map(String), [String(id)], 'killing it again reports it not found')

  const bogus = await db.command({ getMore: Long.fromNumber(123456789), collection: 'many' })
    .then(() => null, (e: unknown) => e) as any
  t.equal(bogus?.code, 43, 'unknown cursor id: CursorNotFound')
})

t.test('cursor.close() sends killCursors and the server forgets the cursor', async (t) => {
  clearLog()
  const cursor = mdb.collection('many').find({}, { batchSize: 10 })
  const first = await cursor.next()
  t.equal(first?._id, 0)
  const id = cursor.id
  t.ok(id !== undefined && String(id) !== '0', 'cursor still open on the server')
  await cursor.close()
  const kill = started.find((e) => e.commandName === 'killCursors')
  t.ok(kill, 'killCursors sent')
  t.same(kill?.command.cursors.map(String), [String(id)])
  const ks = succeeded.find((e) => e.commandName === 'killCursors')
  t.same(ks?.reply.cursorsKilled.map(String), [String(id)])
  const err = await mdb.command({ getMore: id, collection: 'many' }).then(() => null, (e: unknown) => e) as any
  t.equal(err?.code, 43)
})

t.test('a limit smaller than the batch closes the cursor in the first reply', async (t) => {
  const r = await db.command({ find: 'many', filter: {}, limit: 3 })
  t.equal(r.cursor.firstBatch.length, 3)
  t.equal(String(r.cursor.id), '0')
  const single = await db.command({ find: 'many', filter: {}, batchSize: 2, singleBatch: true })
  t.equal(single.cursor.firstBatch.length, 2)
  t.equal(String(single.cursor.id), '0', 'singleBatch closes the cursor')
})

t.test('aggregate cursors page with getMore too', async (t) => {
  clearLog()
  const out = await mdb.collection('many').aggregate([{ $match: { n: { $lt: 200 } } }, { $sort: { n: -1 } }], { batchSize: 64 }).toArray()
  t.equal(out.length, 200)
  t.equal(out[0].n, 199)
  t.equal(out[199].n, 0)
  t.ok(succeeded.some((e) => e.commandName === 'getMore'), 'aggregate used getMore')
  t.equal(succeeded.find((e) => e.commandName === 'aggregate')?.reply.cursor.firstBatch.length, 64)
})
