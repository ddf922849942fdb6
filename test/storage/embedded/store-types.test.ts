// BSON types survive the store exactly, queries compare numbers across Int32/Double/Long/Decimal128,
// ObjectIds match by value, and sorting follows MongoDB's cross-type BSON order.
import t from 'tap'
import {
  Binary, BSON, BSONRegExp, Code, Decimal128, Double, Int32, Long, MaxKey, MinKey, ObjectId, Timestamp, UUID
} from 'bson'
import { MemoryStore } from '../../../src/storage/embedded/store.js'
import type { Document } from '../../../src/storage/embedded/store.types.js'

const DESERIALIZE = { promoteValues: false, promoteLongs: false, promoteBuffers: false } as const

/** As the wire server hands documents over: serialised and read back with promotion off. */
function viaBson (doc: Document): Document {
  return BSON.deserialize(BSON.serialize(doc), DESERIALIZE)
}

t.test('every BSON type reads back with its type intact', async t => {
  const store = new MemoryStore()
  const original = {
    _id: new ObjectId(),
    int: new Int32(42),
    double: new Double(42),
    long: Long.fromString('9007199254740993'),
    decimal: Decimal128.fromString('1.10'),
    string: 'text',
    bool: true,
    date: new Date('2024-01-02T03:04:05.678Z'),
    nil: null,
    bin: new Binary(Buffer.from([1, 2, 3]), 0),
    uuid: new UUID(),
    ts: new Timestamp({ t: 100, i: 2 }),
    regex: new BSONRegExp('^a', 'i'),
    code: new Code('function () {}'),
    min: new MinKey(),
    max: new MaxKey(),
    nested: { arr: [new Int32(1), new Double(1.5), { deep: new Long(3) }] }
  }
  const sent = viaBson(original)
  await store.insert('db', 't', [sent], true)
  await store.update('db', 't', [{ q: { _id: sent._id }, u: { $set: { touched: new Int32(1) } } }], true)
  const [back] = store.find('db', 't', {})
  const { touched, ...rest } = back
  t.ok(touched instanceof Int32)
  // byte-identical after a trip through the store (types and values)
  t.same(BSON.serialize(rest), BSON.serialize(sent))
  t.ok(rest.double instanceof Double, 'a whole-number double stays a double')
  t.ok(rest.long instanceof Long)
  t.equal(rest.long.toString(), '9007199254740993', 'long beyond 2^53 keeps every digit')
  t.equal(rest.decimal.toString(), '1.10')
})

t.test('numeric comparisons work across Int32, Double, Long, Decimal128 and plain numbers', async t => {
  const store = new MemoryStore()
  await store.insert('db', 'n', [
    viaBson({ _id: 'i', v: new Int32(5) }),
    viaBson({ _id: 'd', v: new Double(5.5) }),
    viaBson({ _id: 'l', v: Long.fromNumber(7) }),
    viaBson({ _id: 'm', v: Decimal128.fromString('6.25') }),
    viaBson({ _id: 's', v: '6' }),
    viaBson({ _id: 'x', w: 1 })
  ], true)
  const ids = (filter: Document, sort: Document = { v: 1 }): unknown[] => store.find('db', 'n', { filter, sort }).map(d => d._id)
  t.same(ids({ v: { $gt: new Int32(5) } }), ['d', 'm', 'l'], '$gt brackets by type: the string is not a number')
  t.same(ids({ v: { $gte: Long.fromNumber(5), $lt: new Double(6.5) } }), ['i', 'd', 'm'])
  t.same(ids({ v: new Double(5) }), ['i'], 'Double(5) equals Int32(5)')
  t.same(ids({ v: 7 }), ['l'])
  t.same(ids({ v: { $in: [new Int32(7), Decimal128.fromString('5.5')] } }), ['d', 'l'])
  t.same(ids({ v: { $lt: '7' } }), ['s'])
  t.same(ids({ v: { $type: 'int' } }), ['i'])
  t.same(ids({ v: { $type: 'double' } }), ['d'])
  t.same(ids({ v: { $type: 'long' } }), ['l'])
  t.same(ids({ v: { $type: 'decimal' } }), ['m'])
  t.same(ids({ v: { $type: 'number' } }), ['i', 'd', 'm', 'l'])
  t.same(ids({ v: { $type: new Int32(2) } }), ['s'], 'numeric type codes')
  t.same(ids({ v: { $exists: false } }), ['x'])
  t.same(ids({ v: { $mod: [new Int32(2), new Int32(1)] } }), ['i', 'd', 'l'])
})

t.test('ObjectIds match by value in equality, $in, $ne and $nin', async t => {
  const store = new MemoryStore()
  const a = new ObjectId()
  const b = new ObjectId()
  await store.insert('db', 'o', [viaBson({ _id: a, ref: b, refs: [a, b] }), viaBson({ _id: b, ref: a, refs: [] })], true)
  const copy = (id: ObjectId): ObjectId => new ObjectId(id.toHexString())
  t.equal(store.find('db', 'o', { filter: { _id: copy(a) } }).length, 1)
  t.equal(store.find('db', 'o', { filter: { ref: { $in: [copy(b), new ObjectId()] } } })[0]._id.toHexString(), a.toHexString())
  t.equal(store.find('db', 'o', { filter: { refs: copy(b) } }).length, 1, 'array membership')
  t.equal(store.find('db', 'o', { filter: { ref: { $ne: copy(b) } } })[0]._id.toHexString(), b.toHexString())
  t.equal(store.find('db', 'o', { filter: { _id: { $nin: [copy(a)] } } }).length, 1)
  t.equal(store.find('db', 'o', { filter: { _id: { $gt: copy(a) } } }).length, a.toHexString() < b.toHexString() ? 1 : 0)
})

t.test('sort across types follows BSON order', async t => {
  const store = new MemoryStore()
  const values: Array<[string, unknown]> = [
    ['maxkey', new MaxKey()],
    ['regex', new BSONRegExp('a', '')],
    ['ts', new Timestamp({ t: 1, i: 1 })],
    ['date', new Date(0)],
    ['bool', false],
    ['oid', new ObjectId('000000000000000000000000')],
    ['bin', new Binary(Buffer.from([1]))],
    ['array', [new Int32(99)]],
    ['object', { a: 1 }],
    ['string', 'a'],
    ['long', Long.fromNumber(3)],
    ['double', new Double(2.5)],
    ['int', new Int32(1)],
    ['null', null],
    ['minkey', new MinKey()]
  ]
  await store.insert('db', 's', values.map(([name, v]) => viaBson({ _id: name, v })), true)
  await store.insert('db', 's', [{ _id: 'missing' }], true)
  const asc = store.find('db', 's', { sort: { v: 1, _id: 1 } }).map(d => d._id)
  // MongoDB sorts an array by its smallest element ascending, so [99] sorts with the numbers
  t.same(asc, ['minkey', 'missing', 'null', 'int', 'double', 'long', 'array', 'string', 'object', 'bin', 'oid', 'bool', 'date', 'ts', 'regex', 'maxkey'])
  const desc = store.find('db', 's', { sort: { v: -1, _id: 1 } }).map(d => d._id)
  // descending: an array sorts by its largest element; null and missing tie (then _id ascending)
  t.same(desc, ['maxkey', 'regex', 'ts', 'date', 'bool', 'oid', 'bin', 'object', 'string', 'array', 'long', 'double', 'int', 'missing', 'null', 'minkey'])
})

t.test('an index sorts mixed types the same way the in-memory sort does', async t => {
  const store = new MemoryStore()
  await store.createIndexes('db', 'ix', [{ key: { v: 1 }, name: 'v_1' }])
  const docs = [new Int32(3), 'b', new Double(1.5), null, new ObjectId(), true, new Date(5), Long.fromNumber(2), 'a', { x: 1 }]
    .map((v, i) => viaBson({ _id: i, v }))
  await store.insert('db', 'ix', docs, true)
  await store.insert('db', 'plain', docs, true)
  for (const dir of [1, -1]) {
    const viaIndex = store.find('db', 'ix', { sort: { v: dir }, limit: 100 }).map(d => d._id)
    const inMemory = store.find('db', 'plain', { sort: { v: dir }, limit: 100 }).map(d => d._id)
    t.same(viaIndex, inMemory, `direction ${dir}`)
  }
})
