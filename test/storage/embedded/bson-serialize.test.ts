import t from 'tap'
import { calculateObjectSize, deserialize } from 'bson'
import { serializeExact } from '../../../src/storage/embedded/bson-serialize.js'

t.test('documents past bson\'s 17 MiB buffer come out whole, not truncated', async t => {
  const doc = { s: 'x'.repeat(18 * 1024 * 1024) }
  const bytes = serializeExact(doc, 48 * 1024 * 1024)
  t.equal(bytes.length, calculateObjectSize(doc))
  t.equal(deserialize(bytes).s.length, doc.s.length)
})

t.test('documents over the limit are refused', async t => {
  t.throws(() => serializeExact({ s: 'y'.repeat(17 * 1024 * 1024) }, 16 * 1024 * 1024), RangeError)
})

t.test('small documents are serialised as usual', async t => {
  t.same(deserialize(serializeExact({ a: 1 }, 100)), { a: 1 })
})
