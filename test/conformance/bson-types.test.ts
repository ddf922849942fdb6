// BSON types survive a round trip exactly; numbers compare and sort by value across Int32/Double/Long/Decimal128.
import t from 'tap'
import mongoose from 'mongoose'
import { startTestMongo } from '../helpers/mongo.js'

const { ObjectId, Int32, Long, Double, Decimal128, Binary, UUID, Timestamp } = mongoose.mongo
const mongo = await startTestMongo(t)
const { db, connection } = mongo
const raw = { promoteValues: false } as const
const type = (v: any): string => v?._bsontype ?? (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v)

t.test('every type reads back as the same class and value', async (t) => {
  const c = db.collection<any>('types')
  const oid = new ObjectId()
  const date = new Date('2024-02-29T12:34:56.789Z')
  const bytes = Buffer.from([0, 1, 2, 250, 255])
  const uuid = new UUID('0e7b5b9a-7c2f-4f0e-9f4b-7a6d1b9c2e11')
  const doc = {
    _id: oid,
    date,
    i32: new Int32(42),
    negI32: new Int32(-7),
    dbl: new Double(1),
    frac: new Double(2.5),
    long: Long.fromString('9007199254740993'),
    smallLong: Long.fromNumber(5),
    dec: Decimal128.fromString('1.10'),
    bin: new Binary(bytes),
    uuidBin: uuid.toBinary(),
    str: 'héllo ✓',
    bool: true,
    nul: null,
    nested: { a: [1, [2, [3, { deep: new Int32(4) }]]], o: { p: { q: 'r' } } },
    emptyArr: [],
    emptyObj: {},
    ts: new Timestamp({ t: 1700000000, i: 3 })
  }
  await c.insertOne(doc)

  const back = await c.findOne({ _id: oid }, raw) as any
  t.equal(type(back._id), 'ObjectId')
  t.ok(back._id.equals(oid))
  t.ok(back.date instanceof Date)
  t.equal(back.date.getTime(), date.getTime(), 'Date to the millisecond')
  t.equal(type(back.i32), 'Int32')
  t.equal(back.i32.value, 42)
  t.equal(back.negI32.value, -7)
  t.equal(type(back.dbl), 'Double', 'a Double holding 1 stays a Double')
  t.equal(back.dbl.value, 1)
  t.equal(type(back.frac), 'Double')
  t.equal(type(back.long), 'Long')
  t.equal(back.long.toString(), '9007199254740993', 'Long beyond 2^53 is exact')
  t.equal(type(back.smallLong), 'Long', 'a small Long stays a Long')
  t.equal(type(back.dec), 'Decimal128')
  t.equal(back.dec.toString(), '1.10', 'Decimal128 keeps its trailing zero')
  t.equal(type(back.bin), 'Binary')
  t.equal(back.bin.sub_type, 0)
  t.same(Buffer.from(back.bin.buffer), bytes)
  t.equal(back.uuidBin.sub_type, 4, 'UUID subtype kept')
  t.equal(Buffer.from(back.uuidBin.buffer).toString('hex'), uuid.toHexString(false))
  t.equal(back.str, 'héllo ✓')
  t.equal(back.bool, true)
  t.equal(back.nul, null)
  t.ok('nul' in back, 'null field present')
  t.equal(type(back.nested.a[0]), 'Int32')
  t.equal(back.nested.a[1][1][1].deep.value, 4)
  t.same(back.nested.o, { p: { q: 'r' } })
  t.same(back.emptyArr, [])
  t.same(back.emptyObj, {})
  t.equal(type(back.ts), 'Timestamp')
  t.equal(back.ts.t, 1700000000)
  t.equal(back.ts.i, 3)
  t.same(Object.keys(back), Object.keys(doc), 'field order preserved')

  const promoted = await c.findOne({ _id: oid }) as any
  t.equal(promoted.i32, 42, 'default read promotes Int32 to number')
  t.equal(promoted.dbl, 1)
  t.equal(promoted.smallLong, 5, 'small Long promoted to number')
  t.equal(type(promoted.dec), 'Decimal128', 'Decimal128 is never promoted')
})

t.test('equality queries on each type', async (t) => {
  const c = db.collection<any>('types_eq')
  const oid = new ObjectId()
  const date = new Date(1_700_000_000_123)
  await c.insertMany([
    { _id: 1, v: oid }, { _id: 2, v: date }, { _id: 3, v: new Binary(Buffer.from('ab')) },
    { _id: 4, v: Decimal128.fromString('3.30') }, { _id: 5, v: true }, { _id: 6, v: null }, { _id: 7, v: [1, [2, 3]] }
  ])
  const id = async (v: unknown): Promise<unknown[]> => (await c.find({ v }).toArray()).map((d) => d._id)
  t.same(await id(new ObjectId(oid.toHexString())), [1])
  t.same(await id(new Date(date.getTime())), [2])
  t.same(await id(new Binary(Buffer.from('ab'))), [3])
  t.same(await id(Decimal128.fromString('3.3')), [4], 'Decimal128 compares by value: 3.3 == 3.30')
  t.same(await id(true), [5])
  t.same(await id([2, 3]), [7], 'an element that is itself an array')
  t.same(await id(1), [7])
  t.same((await c.find({ v: { $type: 'objectId' } }).toArray()).map((d) => d._id), [1])
  t.same((await c.find({ v: { $type: 'date' } }).toArray()).map((d) => d._id), [2])
  t.same((await c.find({ v: { $type: 'decimal' } }).toArray()).map((d) => d._id), [4])
  t.same((await c.find({ v: { $gt: new Date(0) } }).toArray()).map((d) => d._id), [2], 'Date range sees only dates')
})

t.test('numbers compare across Int32, Double, Long and Decimal128', async (t) => {
  const c = db.collection<any>('nums')
  await c.insertMany([
    { _id: 'i', v: new Int32(5) },
    { _id: 'd', v: new Double(5) },
    { _id: 'l', v: Long.fromNumber(5) },
    { _id: 'm', v: Decimal128.fromString('5.0') },
    { _id: 'x', v: new Double(5.5) },
    { _id: 'big', v: Long.fromString('9007199254740993') },
    { _id: 's', v: '5' }
  ])
  const ids = async (filter: object): Promise<string[]> => (await c.find(filter).toArray()).map((d) => d._id).sort()
  t.same(await ids({ v: 5 }), ['d', 'i', 'l', 'm'], '5 equals Int32 5, Double 5, Long 5, Decimal 5.0; not "5"')
  t.same(await ids({ v: Long.fromNumber(5) }), ['d', 'i', 'l', 'm'])
  t.same(await ids({ v: Decimal128.fromString('5') }), ['d', 'i', 'l', 'm'])
  t.same(await ids({ v: { $gt: new Int32(5), $lt: Long.fromNumber(6) } }), ['x'])
  t.same(await ids({ v: { $gte: new Double(5.25) } }), ['big', 'x'])
  t.same(await ids({ v: { $in: [new Double(5.5), 7] } }), ['x'])
  t.same(await ids({ v: { $gt: new Double(9007199254740992) } }), ['big'], 'Long 2^53+1 > Double 2^53, compared exactly')
  t.same(await ids({ v: new Double(9007199254740992) }), [], 'and not equal to it')
  t.same(await ids({ v: Long.fromString('9007199254740993') }), ['big'])

  const sorted = await c.find({ _id: { $in: ['i', 'x', 'big', 's'] } }, { sort: { v: -1 } }).toArray()
  t.same(sorted.map((d) => d._id), ['s', 'big', 'x', 'i'], 'strings sort after all numbers; numbers by value')
  const mixed = db.collection<any>('nums_sort')
  await mixed.insertMany([
    { _id: 1, v: new Int32(3) }, { _id: 2, v: new Double(2.5) }, { _id: 3, v: Long.fromNumber(10) },
    { _id: 4, v: Decimal128.fromString('1.5') }, { _id: 5, v: new Double(-1) }
  ])
  t.same((await mixed.find({}, { sort: { v: 1 } }).toArray()).map((d) => d._id), [5, 4, 2, 1, 3])
})

t.test('$inc keeps or widens numeric types as MongoDB does', async (t) => {
  const c = db.collection<any>('inc_types')
  await c.insertOne({ _id: 1, i: new Int32(1), l: Long.fromNumber(1), d: new Double(1), ov: new Int32(2147483647), dec: Decimal128.fromString('1.1') })
  await c.updateOne({ _id: 1 }, { $inc: { i: new Int32(1), l: new Int32(1), d: new Int32(1), ov: new Int32(1), dec: new Int32(1), fresh: new Int32(3) } })
  const back = await c.findOne({ _id: 1 }, raw) as any
  t.equal(type(back.i), 'Int32', 'int + int = int')
  t.equal(back.i.value, 2)
  t.equal(type(back.l), 'Long', 'long + int = long')
  t.equal(back.l.toString(), '2')
  t.equal(type(back.d), 'Double', 'double + int = double')
  t.equal(back.d.value, 2)
  t.equal(type(back.ov), 'Long', 'int overflow widens to long')
  t.equal(back.ov.toString(), '2147483648')
  t.equal(type(back.dec), 'Decimal128')
  t.equal(back.dec.toString(), '2.1')
  t.equal(type(back.fresh), 'Int32', 'missing field takes the increment type')
  await c.updateOne({ _id: 1 }, { $inc: { i: 0.5 } })
  const widened = await c.findOne({ _id: 1 }, raw) as any
  t.equal(type(widened.i), 'Double', 'int + double = double')
  t.equal(widened.i.value, 2.5)
})

t.test('mongoose schema types round trip', async (t) => {
  const schema = new mongoose.Schema({
    when: Date,
    price: mongoose.Schema.Types.Decimal128,
    ref: mongoose.Schema.Types.ObjectId,
    data: Buffer,
    big: BigInt,
    count: Number,
    meta: mongoose.Schema.Types.Mixed,
    list: [{ k: String, n: Number }]
  })
  const M = connection.model('TypesDoc', schema)
  const ref = new ObjectId()
  const created = await M.create({
    when: new Date(1234567890123),
    price: Decimal128.fromString('19.99'),
    ref,
    data: Buffer.from('bin'),
    big: 2n ** 60n,
    count: 3.25,
    meta: { a: [1, { b: null }] },
    list: [{ k: 'x', n: 1 }]
  })
  const back = await M.findById(created._id).lean() as any
  t.equal(back.when.getTime(), 1234567890123)
  t.equal(back.price.toString(), '19.99')
  t.ok(back.ref.equals(ref))
  t.equal((type(back.data) === 'Binary' ? Buffer.from(back.data.buffer) : Buffer.from(back.data)).toString(), 'bin')
  t.equal(BigInt(back.big.toString()), 2n ** 60n)
  t.equal(back.count, 3.25)
  t.same(back.meta, { a: [1, { b: null }] })
  t.equal(back.list[0].k, 'x')
  t.ok(back.list[0]._id instanceof ObjectId, 'subdocuments get their own _id')
  const rawBack = await M.collection.findOne({ _id: created._id }, raw) as any
  t.equal(type(rawBack.big), 'Long', 'BigInt is stored as a BSON long')
})
