// mongoose 9 and GridFS against the embedded server, with no sessions advertised.
import t from 'tap'
import { randomBytes } from 'node:crypto'
import { Readable } from 'node:stream'
import mongoose from 'mongoose'
import { startEmbeddedMongo } from '../../../src/storage/embedded/index.js'

const server = await startEmbeddedMongo()
t.teardown(() => server.close())
const conn = await mongoose.createConnection(server.url, { dbName: 'parley' }).asPromise()
t.teardown(() => conn.close())

const userSchema = new mongoose.Schema({
  email: { type: String, required: true, unique: true },
  name: String,
  visits: { type: Number, default: 0 }
}, { timestamps: true })
const User = conn.model('User', userSchema)

t.test('mongoose model with a unique index: create, find, update, delete', async t => {
  await User.init() // autoCreate + autoIndex: create and createIndexes
  const indexes = await User.collection.indexes()
  t.ok(indexes.some(i => i.name === 'email_1' && i.unique === true), 'unique index built')

  const ada = await User.create({ email: 'ada@x', name: 'Ada' })
  t.ok(ada._id instanceof mongoose.Types.ObjectId)
  await t.rejects(User.create({ email: 'ada@x', name: 'Again' }), { code: 11000 })

  const found = await User.findOne({ email: 'ada@x' }).lean()
  t.equal(found?.name, 'Ada')
  t.type(found?.createdAt, Date)

  await User.updateOne({ _id: ada._id }, { $inc: { visits: 2 } })
  t.equal((await User.findById(ada._id))?.visits, 2)

  const bob = await User.findOneAndUpdate(
    { email: 'bob@x' },
    { $set: { name: 'Bob' } },
    { upsert: true, returnDocument: 'after', setDefaultsOnInsert: true }
  )
  t.equal(bob?.name, 'Bob')
  t.equal(bob?.visits, 0)
  t.equal(await User.countDocuments(), 2)
  t.equal(await User.countDocuments({ visits: { $gt: 0 } }), 1)
  t.equal(await User.estimatedDocumentCount(), 2)

  const sorted = await User.find().sort({ email: -1 }).select('email -_id').lean()
  t.same(sorted, [{ email: 'bob@x' }, { email: 'ada@x' }])

  const del = await User.deleteOne({ email: 'bob@x' })
  t.equal(del.deletedCount, 1)
  t.equal(await User.countDocuments(), 1)
})

t.test('mongoose syncIndexes and connection helpers', async t => {
  const Room = conn.model('Room', new mongoose.Schema({ slug: { type: String, index: true }, topic: String }))
  t.same(await Room.syncIndexes(), [], 'nothing to drop on a fresh collection')
  t.ok((await Room.listIndexes()).some(i => i.name === 'slug_1'))
  await Room.collection.createIndex({ topic: 1 }) // not in the schema: syncIndexes drops it
  t.same(await Room.syncIndexes(), ['topic_1'])
  const names = (await conn.listCollections()).map(c => c.name)
  t.ok(names.includes('rooms') && names.includes('users'))
  await conn.dropCollection('rooms')
  t.notOk((await conn.listCollections()).some(c => c.name === 'rooms'))
})

t.test('GridFS round trip of a few MB', async t => {
  const db = conn.db
  if (db === undefined) throw new Error('no db')
  const bucket = new mongoose.mongo.GridFSBucket(db)
  const data = randomBytes(5 * 1024 * 1024 + 123)
  const upload = bucket.openUploadStream('blob.bin')
  await new Promise<void>((resolve, reject) => {
    Readable.from([data.subarray(0, 3_000_000), data.subarray(3_000_000)])
      .pipe(upload)
      .on('finish', () => resolve())
      .on('error', reject)
  })
  const chunks: Buffer[] = []
  for await (const chunk of bucket.openDownloadStream(upload.id)) chunks.push(chunk as Buffer)
  const back = Buffer.concat(chunks)
  t.equal(back.length, data.length)
  t.ok(back.equals(data), 'bytes equal')
  const files = await bucket.find({ filename: 'blob.bin' }).toArray()
  t.equal(files.length, 1)
  t.equal(files[0].length, data.length)
  await bucket.delete(upload.id)
  t.equal(await db.collection('fs.chunks').countDocuments(), 0)
})

t.test('explicit sessions fail cleanly client-side (no sessions advertised)', async t => {
  await t.rejects(async () => {
    const session = await conn.startSession()
    try {
      await User.findOne({}, null, { session })
    } finally {
      await session.endSession()
    }
  }, /does not support sessions/)
})
