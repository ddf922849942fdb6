// Database-level commands: unknown command, ping, listCollections, create, drop, dropDatabase, listDatabases.
import t from 'tap'
import mongoose from 'mongoose'
import { startTestMongo } from '../helpers/mongo.js'

const mongo = await startTestMongo(t)
const { db, client, connection } = mongo
const fail = async (p: Promise<unknown>): Promise<any> => await p.then(() => null, (e: unknown) => e)
const names = async (d: mongoose.mongo.Db = db): Promise<string[]> =>
  (await d.listCollections({}, { nameOnly: true }).toArray()).map((c) => c.name).filter((n) => !n.startsWith('system.')).sort()

t.test('an unknown command fails with CommandNotFound (59)', async (t) => {
  const err = await fail(db.command({ noSuchCmd: 1 }))
  t.ok(err instanceof mongoose.mongo.MongoServerError)
  t.equal(err?.code, 59)
  t.equal(err?.codeName, 'CommandNotFound')
  t.match(err?.message, /noSuchCmd/)
})

t.test('ping, hello, buildInfo', async (t) => {
  t.match(await db.command({ ping: 1 }), { ok: 1 })
  const hello = await db.admin().command({ hello: 1 })
  t.equal(hello.isWritablePrimary, true)
  t.type(hello.maxWireVersion, 'number')
  t.ok(hello.maxBsonObjectSize >= 16 * 1024 * 1024)
  const info = await db.admin().command({ buildInfo: 1 })
  t.match(info.version, /^\d+\.\d+/)
})

t.test('listCollections, createCollection, drop', async (t) => {
  t.same(await names(), [], 'a fresh database has no collections')
  await db.collection('implicit').insertOne({ a: 1 })
  await db.createCollection('explicit')
  t.same(await names(), ['explicit', 'implicit'])
  const full = await db.listCollections({ name: 'implicit' }).toArray()
  t.equal(full.length, 1)
  t.equal(full[0].type, 'collection')
  t.same((full[0] as any).idIndex?.key, { _id: 1 })
  const exists = await fail(db.createCollection('explicit'))
  t.equal(exists?.code, 48, 'NamespaceExists')

  const raw = await db.command({ listCollections: 1, filter: { name: { $in: ['explicit', 'nope'] } } })
  t.same(raw.cursor.firstBatch.map((c: any) => c.name), ['explicit'], 'filter is applied')
  t.equal(raw.cursor.ns, `${mongo.dbName}.$cmd.listCollections`)

  t.equal(await db.collection('explicit').drop(), true)
  t.same(await names(), ['implicit'])
  t.equal(await db.dropCollection('implicit'), true)
  t.same(await names(), [])
  t.equal(await db.collection('implicit').countDocuments(), 0, 'documents went with the collection')
})

t.test('drop removes indexes with the collection', async (t) => {
  const c = db.collection('with_index')
  await c.createIndex({ k: 1 }, { unique: true })
  await c.insertOne({ k: 1 })
  await c.drop()
  await c.insertOne({ k: 1 })
  await c.insertOne({ k: 1 })
  t.equal(await c.countDocuments(), 2, 'the unique index is gone')
  t.same((await c.listIndexes().toArray()).map((i) => i.name), ['_id_'])
  await c.drop()
})

t.test('dropDatabase removes everything in it, and only it', async (t) => {
  const other = client.db(`${mongo.dbName}_other`)
  t.teardown(async () => { await other.dropDatabase() })
  await other.collection('keep').insertOne({ k: 1 })
  await db.collection('a').insertOne({ x: 1 })
  await db.collection('b').createIndex({ y: 1 })
  const dbs = (await client.db('admin').admin().listDatabases()).databases.map((d) => d.name)
  t.ok(dbs.includes(mongo.dbName), 'listDatabases lists the database')
  t.ok(dbs.includes(`${mongo.dbName}_other`))

  t.equal(await db.dropDatabase(), true)
  t.same(await names(), [])
  t.equal(await db.collection('a').countDocuments(), 0)
  t.same(await names(other), ['keep'], 'another database is untouched')
  const after = (await client.db('admin').admin().listDatabases()).databases.map((d) => d.name)
  t.notOk(after.includes(mongo.dbName), 'a dropped database is no longer listed')
  await db.collection('a').insertOne({ x: 2 })
  t.equal(await db.collection('a').countDocuments(), 1, 'the database can be used again')
})

t.test('mongoose connection helpers', async (t) => {
  await connection.createCollection('via_mongoose')
  const list = await connection.listCollections()
  t.ok(list.some((c) => c.name === 'via_mongoose'))
  await connection.dropCollection('via_mongoose')
  t.notOk((await connection.listCollections()).some((c) => c.name === 'via_mongoose'))
  const M = connection.model('CmdDoc', new mongoose.Schema({ n: Number }))
  await M.create({ n: 1 })
  t.equal(await M.countDocuments(), 1)
  await connection.dropDatabase()
  t.equal(await M.countDocuments(), 0)
})
