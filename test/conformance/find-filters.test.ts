// Query operators, dotted paths and array semantics, as MongoDB matches them.
import t from 'tap'
import mongoose from 'mongoose'
import { startTestMongo } from '../helpers/mongo.js'

const mongo = await startTestMongo(t)
const { db } = mongo
const c = db.collection<any>('people')

await c.insertMany([
  { _id: 1, name: 'ann', age: 30, tags: ['a', 'b'], profile: { city: 'Oslo', langs: ['no', 'en'] }, scores: [90, 40] },
  { _id: 2, name: 'bob', age: 25, tags: ['b', 'c'], profile: { city: 'Rome' }, scores: [70] },
  { _id: 3, name: 'Cid', age: 35, tags: [], profile: { city: 'Oslo' }, nick: null },
  { _id: 4, name: 'dee', age: '40', items: [{ sku: 'x', qty: 1 }, { sku: 'y', qty: 5 }] },
  { _id: 5, name: 'eve', items: [{ sku: 'x', qty: 5 }, { sku: 'z', qty: 1 }], tags: [['a', 'b']] }
])

const ids = async (filter: object, options: object = {}): Promise<number[]> =>
  (await c.find(filter, { sort: { _id: 1 }, ...options }).toArray()).map((d) => d._id)

t.test('comparison operators and type bracketing', async (t) => {
  t.same(await ids({ age: 30 }), [1], 'implicit $eq')
  t.same(await ids({ age: { $eq: 30 } }), [1])
  t.same(await ids({ age: { $ne: 30 } }), [2, 3, 4, 5], '$ne also matches missing fields and other types')
  t.same(await ids({ age: { $gt: 25 } }), [1, 3], '$gt on numbers ignores the string "40"')
  t.same(await ids({ age: { $gte: 25 } }), [1, 2, 3])
  t.same(await ids({ age: { $lt: 30 } }), [2])
  t.same(await ids({ age: { $lte: 30 } }), [1, 2])
  t.same(await ids({ age: { $gt: 26, $lt: 34 } }), [1], 'range on one field')
  t.same(await ids({ age: { $gt: '' } }), [4], 'string comparison only sees strings')
  t.same(await ids({ age: 40 }), [], 'no cross-type equality between number and string')
  t.same(await ids({ name: { $gt: 'b' } }), [2, 4, 5], 'binary string order: uppercase sorts before lowercase')
})

t.test('$in, $nin, $exists, null', async (t) => {
  t.same(await ids({ age: { $in: [25, 35, '40'] } }), [2, 3, 4])
  t.same(await ids({ age: { $nin: [25, 35] } }), [1, 4, 5], '$nin matches missing fields')
  t.same(await ids({ name: { $in: [/^a/, 'bob'] } }), [1, 2], '$in with regex')
  t.same(await ids({ tags: { $in: ['c'] } }), [2], '$in against array elements')
  t.same(await ids({ age: { $exists: false } }), [5])
  t.same(await ids({ nick: { $exists: true } }), [3], 'null counts as existing')
  t.same(await ids({ nick: null }), [1, 2, 3, 4, 5], '{f: null} matches null and missing')
  t.same(await ids({ nick: { $ne: null } }), [])
  t.same(await ids({ nick: { $type: 'null' } }), [3])
})

t.test('$regex', async (t) => {
  t.same(await ids({ name: /^c/i }), [3], 'BSON regex with i flag')
  t.same(await ids({ name: { $regex: '^c', $options: 'i' } }), [3])
  t.same(await ids({ name: { $regex: 'e$' } }), [4, 5])
  t.same(await ids({ name: { $regex: /^[ab]/ } }), [1, 2])
  t.same(await ids({ name: { $not: /^[ab]/ } }), [3, 4, 5])
  t.same(await ids({ 'profile.city': { $regex: 'sl' } }), [1, 3])
  t.same(await ids({ age: /4/ }), [4], 'regex never matches numbers')
})

t.test('$and, $or, $nor, $not', async (t) => {
  t.same(await ids({ $or: [{ age: 25 }, { name: 'eve' }] }), [2, 5])
  t.same(await ids({ $and: [{ 'profile.city': 'Oslo' }, { age: { $gt: 31 } }] }), [3])
  t.same(await ids({ $and: [{ age: { $gt: 20 } }, { age: { $lt: 31 } }], $or: [{ tags: 'a' }, { tags: 'c' }] }), [1, 2])
  t.same(await ids({ $nor: [{ age: 25 }, { age: { $exists: false } }] }), [1, 3, 4])
  t.same(await ids({ age: { $not: { $gt: 26 } } }), [2, 4, 5], '$not also matches missing and other types')
})

t.test('dotted paths', async (t) => {
  t.same(await ids({ 'profile.city': 'Oslo' }), [1, 3])
  t.same(await ids({ 'profile.langs': 'en' }), [1], 'dotted path into an array field')
  t.same(await ids({ 'items.sku': 'x' }), [4, 5], 'path through an array of subdocuments')
  t.same(await ids({ 'items.qty': { $gt: 4 } }), [4, 5])
  t.same(await ids({ 'items.0.sku': 'x' }), [4, 5], 'numeric array index in a path')
  t.same(await ids({ 'items.1.qty': 1 }), [5])
  t.same(await ids({ 'profile.zip': { $exists: true } }), [])
  t.same(await ids({ profile: { city: 'Rome' } }), [2], 'whole-subdocument equality is exact')
  t.same(await ids({ profile: { city: 'Oslo' } }), [3], 'extra fields make a subdocument unequal')
})

t.test('arrays', async (t) => {
  t.same(await ids({ tags: 'b' }), [1, 2], 'scalar matches an element')
  t.same(await ids({ tags: ['a', 'b'] }), [1, 5], 'array equality: whole array, or an element that is that array')
  t.same(await ids({ tags: ['b', 'a'] }), [], 'array equality is order-sensitive')
  t.same(await ids({ tags: [] }), [3])
  t.same(await ids({ tags: { $size: 2 } }), [1, 2])
  t.same(await ids({ tags: { $all: ['b', 'a'] } }), [1])
  t.same(await ids({ scores: { $gt: 80, $lt: 50 } }), [1], 'without $elemMatch each condition may match a different element')
  t.same(await ids({ scores: { $elemMatch: { $gt: 80, $lt: 50 } } }), [])
  t.same(await ids({ scores: { $elemMatch: { $gt: 60, $lt: 80 } } }), [2])
  t.same(await ids({ items: { $elemMatch: { sku: 'x', qty: 5 } } }), [5], '$elemMatch on subdocuments: same element')
  t.same(await ids({ 'items.sku': 'x', 'items.qty': 5 }), [4, 5], 'dotted conditions may match different elements')
  t.same(await ids({ items: { sku: 'x', qty: 1 } }), [4], 'element equality with an exact subdocument')
  t.same(await ids({ items: { qty: 1, sku: 'x' } }), [], 'subdocument equality is field-order sensitive')
})

t.test('an operator object as a filter value (what injection looks like)', async (t) => {
  const users = db.collection<any>('users')
  await users.insertMany([
    { _id: 1, user: 'ann', password: 's3cret' },
    { _id: 2, user: 'bob', password: 'hunter2' },
    { _id: 3, user: 'cid', password: '' }
  ])
  // A login check that pastes request fields into the filter.
  const evil = { user: 'ann', password: { $gt: '' } }
  const hit = await users.findOne(evil)
  t.equal(hit?._id, 1, '{ $gt: "" } is an operator: it matches any non-empty string password')
  t.equal(await users.countDocuments({ password: { $gt: '' } }), 2, 'the empty string is not $gt ""')
  t.equal(await users.countDocuments({ user: { $ne: null } }), 3, '{ $ne: null } matches every user')
  t.equal(await users.countDocuments({ password: { $eq: { $gt: '' } } }), 0,
    'wrapped in $eq the same object is a literal value and matches nothing')
  t.equal(await users.countDocuments({ user: 'ann', password: 's3cret' }), 1)

  // Through mongoose the operator survives casting too: only sanitizeFilter or explicit casting stops it.
  const User = mongo.connection.model('InjUser', new mongoose.Schema({ _id: Number, user: String, password: String }), 'users')
  const viaModel = await User.findOne({ user: 'bob', password: { $gt: '' } }).lean()
  t.equal(viaModel?._id, 2, 'mongoose passes { $gt: "" } through as an operator')
  const literal = await User.find({ password: { $eq: '' } }).lean()
  t.same(literal.map((u) => u._id), [3])
})

t.test('unknown query operator is an error', async (t) => {
  const err = await c.find({ age: { $bogus: 1 } }).toArray().then(() => null, (e: unknown) => e) as any
  t.ok(err, 'rejected')
  t.equal(err?.code, 2, 'BadValue')
})

t.test('find on a missing collection returns nothing', async (t) => {
  t.same(await db.collection('nope').find({}).toArray(), [])
  t.equal(await db.collection('nope').findOne({}), null)
})
