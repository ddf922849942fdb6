// Random (often nonsensical) filters, updates, projections and pipelines: the store may reject them,
// but only with MongoCommandError (never a raw TypeError), and its indexes must still agree with a
// full scan afterwards.
import t from 'tap'
import { Binary, Decimal128, Int32, Long, ObjectId } from 'bson'
import { MemoryStore } from '../../../src/storage/embedded/store.js'
import { MongoCommandError, type Document } from '../../../src/storage/embedded/store.types.js'

let seed = 20240601
const rand = (): number => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed / 0x7fffffff }
const pick = <T>(xs: T[]): T => xs[Math.floor(rand() * xs.length)]
const ATOMS: unknown[] = [1, -1, 0, 'a', '', null, true, [], {}, [1, 'a'], new Int32(2), new ObjectId(), Long.fromNumber(3),
  new Date(0), /x/, new Binary(Buffer.from([1])), Decimal128.fromString('1'), 5.5, '$a', '$', 'a.b', undefined]
const KEYS = ['a', 'b', 'x.y', 'arr', 'arr.$', 'arr.$[]', 'arr.$[e]', '_id', '$set', '$inc', '$gt', '$in', '$and', '$or',
  '$elemMatch', '$exists', '$type', '$size', '$push', '$each', '$slice', '$regex', '$not', '$expr', '$unset', '$rename',
  '$pull', '$bit', '$mod', '$all', '$nin', '$group', '$match', '$project', '$sort', '$limit', '$unwind', '$count',
  '$addToSet', '$position', '$currentDate', '$min', '$max', '$mul', '$setOnInsert', '$pop', '$pullAll', '$sum']

function value (depth: number): unknown {
  if (depth > 3 || rand() < 0.4) return pick(ATOMS)
  if (rand() < 0.3) return Array.from({ length: Math.floor(rand() * 3) }, () => value(depth + 1))
  const o: Document = {}
  for (let i = 0; i < 1 + Math.floor(rand() * 2); i++) o[pick(KEYS)] = value(depth + 1)
  return o
}

t.test('garbage in, MongoCommandError out; indexes stay consistent', async t => {
  const store = new MemoryStore()
  await store.createIndexes('db', 'c', [{ key: { a: 1, b: -1 }, name: 'ab' }, { key: { 'x.y': 1 }, name: 'xy', sparse: true }, { key: { a: 1 }, name: 'a_u', unique: true, partialFilterExpression: { b: { $exists: true } } }])
  await store.insert('db', 'c', [{ a: 1, b: [1, 2], x: { y: 'q' } }, { a: 'z', arr: [{ k: 1 }] }, { a: null, b: new Int32(3) }, { x: [{ y: 1 }, { y: 2 }] }], true)
  const escaped: string[] = []
  const attempt = async (fn: () => unknown): Promise<void> => {
    try { await fn() } catch (err) {
      if (!(err instanceof MongoCommandError)) escaped.push(`${(err as Error).name}: ${(err as Error).message}`)
    }
  }
  for (let i = 0; i < 800; i++) {
    const v = value(0) as Document
    const w = value(0) as Document
    await attempt(() => store.find('db', 'c', { filter: v, sort: rand() < 0.3 ? w : undefined, projection: rand() < 0.3 ? value(1) as Document : undefined }))
    await attempt(async () => {
      const res = await store.update('db', 'c', [{ q: rand() < 0.5 ? {} : v, u: w, upsert: rand() < 0.3, multi: rand() < 0.5, arrayFilters: rand() < 0.2 ? [value(1) as Document] : undefined }], false)
      for (const e of res.writeErrors) if (typeof e.code !== 'number' || typeof e.errmsg !== 'string') escaped.push(`bad write error ${JSON.stringify(e)}`)
    })
    await attempt(() => store.aggregate('db', 'c', Array.isArray(v) ? v : [v]))
    await attempt(() => store.findAndModify('db', 'c', { query: v, update: w, upsert: rand() < 0.3, new: rand() < 0.5 }))
    await attempt(() => store.distinct('db', 'c', pick(['a', 'x.y', 'arr.k']), v))
    await attempt(() => store.count('db', 'c', v))
  }
  t.same(escaped, [], 'only MongoCommandErrors escape')
  t.ok(store.documentCount() > 4, 'upserts happened')
  // every index still answers like a full scan
  const scan = (filter: Document): unknown[] => store.find('db', 'c', { filter, hint: { $natural: 1 } }).map(d => String(d._id)).sort()
  const viaIndex = (filter: Document): unknown[] => store.find('db', 'c', { filter }).map(d => String(d._id)).sort()
  for (const filter of [{ a: 1 }, { a: 'z' }, { a: null }, { a: 1, b: { $gte: 1 } }, { 'x.y': 'q' }, { 'x.y': { $gte: 1 } }, { a: { $in: [1, 'z', null] } }]) {
    t.same(viaIndex(filter), scan(filter), JSON.stringify(filter))
  }
})
