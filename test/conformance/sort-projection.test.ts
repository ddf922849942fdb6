// Sort order (multi-key, descending, BSON type order, arrays), projection, skip and limit.
import t from 'tap'
import mongoose from 'mongoose'
import { startTestMongo } from '../helpers/mongo.js'

const { Binary, ObjectId, MinKey, MaxKey, BSONRegExp } = mongoose.mongo
const mongo = await startTestMongo(t)
const { db, connection } = mongo

const ids = (docs: any[]): unknown[] => docs.map((d) => d._id)

t.test('multi-key sort, ascending and descending', async (t) => {
  const c = db.collection<any>('srt')
  await c.insertMany([
    { _id: 1, city: 'b', age: 30 },
    { _id: 2, city: 'a', age: 20 },
    { _id: 3, city: 'b', age: 40 },
    { _id: 4, city: 'a', age: 50 },
    { _id: 5, city: 'c', age: 40, nested: { k: 2 } },
    { _id: 6, city: 'c', age: 10, nested: { k: 1 } }
  ])
  t.same(ids(await c.find({}, { sort: { age: 1, _id: 1 } }).toArray()), [6, 2, 1, 3, 5, 4])
  t.same(ids(await c.find({}, { sort: { age: 1, _id: -1 } }).toArray()), [6, 2, 1, 5, 3, 4], 'second key breaks ties')
  t.same(ids(await c.find({}, { sort: { city: 1, age: -1 } }).toArray()), [4, 2, 3, 1, 5, 6])
  t.same(ids(await c.find({}, { sort: { city: -1, age: 1 } }).toArray()), [6, 5, 1, 3, 2, 4])
  t.same(ids(await c.find({}, { sort: { _id: -1 } }).toArray()), [6, 5, 4, 3, 2, 1])
  t.same(ids(await c.find({ nested: { $exists: true } }, { sort: { 'nested.k': 1 } }).toArray()), [6, 5], 'dotted sort key')
  t.same(ids(await c.find({ city: 'b' }).sort({ age: -1 }).toArray()), [3, 1], 'cursor.sort()')
})

t.test('mixed types sort in BSON order; missing sorts as null', async (t) => {
  const c = db.collection<any>('mixed')
  const oid = new ObjectId('000000000000000000000001')
  await c.insertMany([
    { _id: 1 },
    { _id: 2, v: null },
    { _id: 3, v: 3 },
    { _id: 4, v: -1.5 },
    { _id: 5, v: 'abc' },
    { _id: 6, v: 'B' },
    { _id: 7, v: { a: 1 } },
    { _id: 8, v: new Binary(Buffer.from([1, 2])) },
    { _id: 9, v: oid },
    { _id: 10, v: false },
    { _id: 11, v: true },
    { _id: 12, v: new Date(0) },
    { _id: 13, v: new BSONRegExp('x', '') },
    { _id: 14, v: new MinKey() },
    { _id: 15, v: new MaxKey() }
  ])
  const asc = ids(await c.find({}, { sort: { v: 1, _id: 1 } }).toArray())
  t.same(asc, [14, 1, 2, 4, 3, 6, 5, 7, 8, 9, 10, 11, 12, 13, 15],
    'MinKey < null/missing < numbers < strings < objects < binary < ObjectId < bool < Date < regex < MaxKey')
  const desc = ids(await c.find({}, { sort: { v: -1, _id: 1 } }).toArray())
  t.same(desc, [15, 13, 12, 11, 10, 9, 8, 7, 5, 6, 3, 4, 1, 2, 14])
})

t.test('array fields sort by their smallest element ascending, largest descending', async (t) => {
  const c = db.collection<any>('arrsort')
  await c.insertMany([{ _id: 1, v: [1, 5] }, { _id: 2, v: 3 }, { _id: 3, v: [0, 4] }])
  t.same(ids(await c.find({}, { sort: { v: 1 } }).toArray()), [3, 1, 2])
  t.same(ids(await c.find({}, { sort: { v: -1 } }).toArray()), [1, 3, 2])
})

t.test('projection', async (t) => {
  const c = db.collection<any>('proj')
  await c.insertOne({
    _id: 1,
    name: 'ann',
    secret: 'x',
    profile: { city: 'Oslo', zip: '0150' },
    items: [{ sku: 'a', qty: 1 }, { sku: 'b', qty: 2 }]
  })
  const one = async (projection: object): Promise<unknown> => await c.findOne({ _id: 1 }, { projection })
  t.same(await one({ name: 1 }), { _id: 1, name: 'ann' }, 'inclusion keeps _id')
  t.same(await one({ name: 1, _id: 0 }), { name: 'ann' }, 'inclusion with _id: 0')
  t.same(await one({ _id: 0 }), {
    name: 'ann', secret: 'x', profile: { city: 'Oslo', zip: '0150' }, items: [{ sku: 'a', qty: 1 }, { sku: 'b', qty: 2 }]
  }, '_id: 0 alone is an exclusion')
  t.same(await one({ secret: 0, items: 0 }), { _id: 1, name: 'ann', profile: { city: 'Oslo', zip: '0150' } }, 'exclusion')
  t.same(await one({ 'profile.city': 1 }), { _id: 1, profile: { city: 'Oslo' } }, 'dotted inclusion')
  t.same(await one({ 'profile.city': 0, items: 0 }), { _id: 1, name: 'ann', secret: 'x', profile: { zip: '0150' } }, 'dotted exclusion')
  t.same(await one({ 'items.sku': 1, _id: 0 }), { items: [{ sku: 'a' }, { sku: 'b' }] }, 'inclusion through an array of subdocuments')
  t.same(await one({ missing: 1 }), { _id: 1 }, 'including a missing field yields only _id')
  const err = await c.findOne({ _id: 1 }, { projection: { name: 1, secret: 0 } }).then(() => null, (e: unknown) => e)
  t.ok(err, 'mixing inclusion and exclusion (other than _id) is rejected')

  const P = connection.model('ProjDoc', new mongoose.Schema({ _id: Number, name: String, secret: String }), 'proj')
  t.same(await P.findById(1).select('name').lean(), { _id: 1, name: 'ann' }, 'mongoose select()')
  const noSecret = await P.findById(1).select('-secret').lean() as any
  t.equal(noSecret.secret, undefined)
  t.equal(noSecret.name, 'ann')
})

t.test('skip and limit apply after sort, whatever the call order', async (t) => {
  const c = db.collection<any>('paging')
  await c.insertMany(Array.from({ length: 10 }, (_, i) => ({ _id: i, n: 9 - i })))
  t.same(ids(await c.find({}, { sort: { n: 1 }, skip: 3, limit: 4 }).toArray()), [6, 5, 4, 3])
  t.same(ids(await c.find({}).limit(4).skip(3).sort({ n: 1 }).toArray()), [6, 5, 4, 3])
  t.same(ids(await c.find({}, { sort: { _id: 1 }, limit: 0 }).toArray()).length, 10, 'limit 0 means no limit')
  t.same(await c.find({}, { skip: 20 }).toArray(), [], 'skip past the end')
  t.same(ids(await c.find({}, { sort: { _id: 1 }, limit: -2 }).toArray()), [0, 1], 'negative limit: that many, one batch')
  t.same(ids(await c.find({ n: { $gte: 5 } }, { sort: { _id: -1 }, skip: 1, limit: 2 }).toArray()), [3, 2])

  const Pg = connection.model('PageDoc', new mongoose.Schema({ _id: Number, n: Number }), 'paging')
  t.same(ids(await Pg.find().sort({ n: -1 }).skip(2).limit(3).lean()), [2, 3, 4], 'mongoose sort/skip/limit')
})
