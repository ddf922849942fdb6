// deleteOne / deleteMany, countDocuments, estimatedDocumentCount, distinct.
import t from 'tap'
import mongoose from 'mongoose'
import { startTestMongo } from '../helpers/mongo.js'

const mongo = await startTestMongo(t)
const { db, connection } = mongo

const seed = async (name: string): Promise<mongoose.mongo.Collection<any>> => {
  const c = db.collection<any>(name)
  await c.insertMany([
    { _id: 1, g: 'x', tags: ['a', 'b'], p: { city: 'Oslo' }, v: 1 },
    { _id: 2, g: 'x', tags: ['b', 'c'], p: { city: 'Rome' }, v: 2 },
    { _id: 3, g: 'y', tags: 'a', p: { city: 'Oslo' }, v: '2' },
    { _id: 4, g: 'y', tags: [], v: null },
    { _id: 5, g: 'z', tags: [['a']], p: [{ city: 'Lima' }, { city: 'Oslo' }] }
  ])
  return c
}

t.test('deleteOne and deleteMany', async (t) => {
  const c = await seed('del')
  const one = await c.deleteOne({ g: 'x' })
  t.equal(one.deletedCount, 1, 'deleteOne removes one of several matches')
  t.equal(await c.countDocuments({ g: 'x' }), 1)
  const many = await c.deleteMany({ g: 'y' })
  t.equal(many.deletedCount, 2)
  const none = await c.deleteMany({ g: 'nope' })
  t.equal(none.deletedCount, 0)
  t.equal((await c.deleteOne({ _id: 404 })).deletedCount, 0)
  const all = await c.deleteMany({})
  t.equal(all.deletedCount, 2)
  t.equal(await c.countDocuments(), 0)
  t.ok((await db.listCollections({ name: 'del' }).toArray()).length === 1, 'the collection survives emptying')
})

t.test('countDocuments with filter, skip, limit; estimatedDocumentCount', async (t) => {
  const c = await seed('cnt')
  t.equal(await c.countDocuments(), 5)
  t.equal(await c.countDocuments({ g: 'x' }), 2)
  t.equal(await c.countDocuments({ tags: 'a' }), 2)
  t.equal(await c.countDocuments({}, { skip: 1 }), 4)
  t.equal(await c.countDocuments({}, { limit: 2 }), 2)
  t.equal(await c.countDocuments({}, { skip: 4, limit: 3 }), 1)
  t.equal(await c.countDocuments({ g: 'nope' }), 0)
  t.equal(await c.estimatedDocumentCount(), 5)
  t.equal(await db.collection('never_created').countDocuments(), 0)
  t.equal(await db.collection('never_created').estimatedDocumentCount(), 0)
  const raw = await db.command({ count: 'cnt', query: { g: 'y' } })
  t.equal(raw.n, 2, 'legacy count command')
})

t.test('distinct flattens arrays, follows dotted paths, honours the filter', async (t) => {
  const c = await seed('dst')
  t.same((await c.distinct('g')).sort(), ['x', 'y', 'z'])
  const tags = await c.distinct('tags')
  t.same(tags.filter((x: unknown) => typeof x === 'string').sort(), ['a', 'b', 'c'], 'array elements, once each')
  t.same(tags.filter((x: unknown) => Array.isArray(x)), [['a']], 'a nested array is one value')
  t.equal(tags.length, 4, 'an empty array contributes nothing')
  t.same((await c.distinct('p.city')).sort(), ['Lima', 'Oslo', 'Rome'], 'dotted path, through arrays of subdocuments')
  t.same((await c.distinct('g', { v: { $type: 'number' } })), ['x'])
  const vs = await c.distinct('v')
  t.equal(vs.length, 4, 'null counts as a value; missing does not; 2 and "2" differ')
  t.ok(vs.includes(null))
  t.same(await db.collection('never_created').distinct('x'), [])
})

t.test('mongoose deleteOne / deleteMany / countDocuments / distinct', async (t) => {
  const M = connection.model('DcdDoc', new mongoose.Schema({ g: String, n: Number }))
  await M.insertMany([{ g: 'a', n: 1 }, { g: 'a', n: 2 }, { g: 'b', n: 3 }])
  t.equal(await M.countDocuments({ g: 'a' }), 2)
  t.equal(await M.estimatedDocumentCount(), 3)
  t.same((await M.distinct('g')).sort(), ['a', 'b'])
  t.equal((await M.deleteOne({ g: 'a' })).deletedCount, 1)
  t.equal((await M.deleteMany({ n: { $gte: 0 } })).deletedCount, 2)
  t.equal(await M.countDocuments(), 0)
})
