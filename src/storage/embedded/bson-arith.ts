/**
 * Arithmetic for $inc, $mul and $bit with MongoDB's type promotion: int32 op int32 stays int32 (or
 * becomes long on overflow), long stays long, any double gives double, any decimal gives decimal.
 * Plain JS numbers on both sides stay plain numbers (values that never came from BSON).
 */
import { Decimal128, Double, Int32, Long } from 'bson'
import { bsonTypeName, numValue } from './bson-order.js'

type Kind = 'int' | 'long' | 'double' | 'decimal'

const RANK: Record<Kind, number> = { int: 0, long: 1, double: 2, decimal: 3 }

function kindOf (v: unknown): Kind {
  switch (bsonTypeName(v)) {
    case 'Int32': return 'int'
    case 'Long': return 'long'
    case 'Double': return 'double'
    case 'Decimal128': return 'decimal'
  }
  if (typeof v === 'bigint') return 'long'
  return Number.isInteger(v) && Math.abs(v as number) <= 0x7fffffff ? 'int' : 'double'
}

const INT32_MIN = -(2 ** 31)
const INT32_MAX = 2 ** 31 - 1
const LONG_MIN = -(2n ** 63n)
const LONG_MAX = 2n ** 63n - 1n

function toBig (v: unknown): bigint {
  const n = numValue(v)
  return typeof n === 'bigint' ? n : BigInt(Math.trunc(n))
}

function make (kind: Kind, n: number | bigint): unknown {
  switch (kind) {
    case 'int': return new Int32(Number(n))
    case 'long': return Long.fromBigInt(BigInt(n))
    case 'double': return new Double(Number(n))
    case 'decimal': return Decimal128.fromString(String(n))
  }
}

/** a + b or a * b with BSON type promotion. */
export function arith (op: 'add' | 'mul', a: unknown, b: unknown): unknown {
  if (typeof a === 'number' && typeof b === 'number') return op === 'add' ? a + b : a * b
  const ka = kindOf(a)
  const kb = kindOf(b)
  const kind = RANK[ka] >= RANK[kb] ? ka : kb
  if (kind === 'int' || kind === 'long') {
    const r = op === 'add' ? toBig(a) + toBig(b) : toBig(a) * toBig(b)
    if (kind === 'int' && r >= INT32_MIN && r <= INT32_MAX) return make('int', r)
    if (r >= LONG_MIN && r <= LONG_MAX) return make('long', r)
    return make('double', Number(r))
  }
  const x = Number(numValue(a))
  const y = Number(numValue(b))
  return make(kind, op === 'add' ? x + y : x * y)
}

/** A zero of the operand's type, for $mul on a missing field. */
export function zeroLike (v: unknown): unknown {
  return typeof v === 'number' ? 0 : make(kindOf(v), 0)
}

/** $bit and/or/xor on int32 or long values. */
export function bitwise (op: string, a: unknown, b: unknown): unknown {
  const ka = kindOf(a)
  const kb = kindOf(b)
  if (ka === 'double' || ka === 'decimal' || kb === 'double' || kb === 'decimal') return undefined
  const x = toBig(a)
  const y = toBig(b)
  const r = op === 'and' ? x & y : op === 'or' ? x | y : op === 'xor' ? x ^ y : undefined
  if (r === undefined) return undefined
  const kind = RANK[ka] >= RANK[kb] ? ka : kb
  if (typeof a === 'number' && typeof b === 'number') return Number(BigInt.asIntN(32, r))
  return kind === 'int' ? make('int', BigInt.asIntN(32, r)) : make('long', BigInt.asIntN(64, r))
}
