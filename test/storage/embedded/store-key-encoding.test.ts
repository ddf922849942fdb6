// Index keys are strings whose order must equal MongoDB's BSON order (bson-order.ts) for every pair of
// values, in both directions, and concatenations of them must order like compound keys.
import t from 'tap'
import {
  Binary, BSONRegExp, Code, Decimal128, Double, Int32, Long, MaxKey, MinKey, ObjectId, Timestamp
} from 'bson'
import { compareBson } from '../../../src/storage/embedded/bson-order.js'
import { complement, encodeValue, successor } from '../../../src/storage/embedded/key-encoding.js'

const VALUES: unknown[] = [
  null, undefined, new MinKey(), new MaxKey(), 0, -0, 1, -1, 1.5, -1.5, NaN, Infinity, -Infinity,
  new Int32(5), new Double(5), Long.fromNumber(5), Long.fromString('9007199254740993'), Long.fromString('9007199254740992'),
  Long.fromString('9007199254740995'), Long.fromString('-9007199254740993'), 9007199254740992, Decimal128.fromString('2.5'),
  1e300, -1e-300, '', 'a', 'a\0', 'a\0b', 'ab', 'b', '\uffff', 'é', '😀',
  { a: 1 }, { a: 2 }, { b: 1 }, { a: 1, b: 1 }, {}, { a: 'x' }, { a: { b: null } },
  [], [1], [1, 2], [2], [[1]], ['a'], [null],
  new Binary(Buffer.from([1, 2])), new Binary(Buffer.from([1])), new Binary(Buffer.from([0, 9])), new Binary(Buffer.from([1, 2]), 4),
  new ObjectId('000000000000000000000001'), new ObjectId('ff0000000000000000000000'), new ObjectId('00000000000000000000ff00'),
  false, true, new Date(0), new Date(-5), new Date(1e12),
  new Timestamp({ t: 1, i: 2 }), new Timestamp({ t: 2, i: 0 }), /a/i, /a/, new BSONRegExp('b', ''), new Code('x')
]

const cmp = (a: string, b: string): number => a < b ? -1 : a > b ? 1 : 0

t.test('single values: encoding order equals BSON order, complement reverses it', async t => {
  let mismatches = 0
  for (const a of VALUES) {
    for (const b of VALUES) {
      const want = Math.sign(compareBson(a, b))
      const ea = encodeValue(a)
      const eb = encodeValue(b)
      if (cmp(ea, eb) !== want || cmp(complement(ea), complement(eb)) !== -want) {
        mismatches++
        t.fail(`order of ${String(a)} vs ${String(b)}`)
      }
    }
  }
  t.equal(mismatches, 0)
})

t.test('compound keys: concatenations order lexicographically by field', async t => {
  const pairs = VALUES.flatMap(a => [null, 'x', new Int32(3), new ObjectId('000000000000000000000002')].map(b => [a, b]))
  let bad = 0
  for (const [a1, b1] of pairs) {
    for (const [a2, b2] of pairs) {
      const want = Math.sign(compareBson(a1, a2) || compareBson(b1, b2))
      const asc = cmp(encodeValue(a1) + encodeValue(b1), encodeValue(a2) + encodeValue(b2))
      const mixed = cmp(encodeValue(a1) + complement(encodeValue(b1)), encodeValue(a2) + complement(encodeValue(b2)))
      const wantMixed = Math.sign(compareBson(a1, a2) || -compareBson(b1, b2))
      if (asc !== want || mixed !== wantMixed) bad++
    }
  }
  t.equal(bad, 0)
})

t.test('successor is the smallest string above a prefix', async t => {
  t.equal(successor('ab'), 'ac')
  t.equal(successor('a\uffff'), 'b')
  t.equal(successor('\uffff\uffff'), undefined)
  const p = encodeValue('x')
  const s = successor(p) as string
  t.ok(p + encodeValue(1) < s && p + '\uffff' < s)
})
