import t from 'tap'
import mongoose from 'mongoose'
import { startEmbeddedMongo } from '../../../src/storage/embedded/index.js'

t.test('a reply over 16 MiB is an error, never a silently truncated document', async t => {
  const engine = await startEmbeddedMongo()
  const client = new mongoose.mongo.MongoClient(engine.url)
  t.teardown(async () => {
    await client.close()
    await engine.close()
  })
  const coll = client.db('big').collection('docs')
  // 18 distinct 1 MiB values: `distinct` must answer them in one reply, past bson's 17 MiB buffer.
  for (let i = 0; i < 18; i++) await coll.insertOne({ v: String(i).padEnd(1024 * 1024, 'x') })
  await t.rejects(coll.distinct('v'), { code: 10334 })
  // The connection still serves requests afterwards.
  t.equal(await coll.countDocuments(), 18)
  const few = await coll.distinct('v', { v: { $lt: '2' } })
  t.equal(few.length, 10, 'values 0, 1, 10..17 fit in one reply and come back whole')
  t.ok(few.every(v => v.length === 1024 * 1024))
})
