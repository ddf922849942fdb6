/**
 * MongoDB's BSON comparison order, over values as BSON deserialises them with promoteValues false
 * (Int32, Double, Long, Decimal128, ObjectId... as wrapper objects) and over plain JS values too.
 *
 * MinKey < null/missing < numbers < string/symbol < object < array < binData < ObjectId < bool < Date
 * < Timestamp < regex < code < MaxKey. Numbers compare by value across Int32/Double/Long/Decimal128.
 */

export const R_MIN = 1
export const R_NULL = 2
export const R_NUMBER = 3
export const R_STRING = 4
export const R_OBJECT = 5
export const R_ARRAY = 6
export const R_BINARY = 7
export const R_OBJECTID = 8
export const R_BOOL = 9
export const R_DATE = 10
export const R_TIMESTAMP = 11
export const R_REGEX = 12
export const R_CODE = 13
export const R_MAX = 100

const BSON_RANKS: Record<string, number> = {
  Int32: R_NUMBER,
  Double: R_NUMBER,
  Long: R_NUMBER,
  Decimal128: R_NUMBER,
  BSONSymbol: R_STRING,
  Binary: R_BINARY,
  ObjectId: R_OBJECTID,
  Timestamp: R_TIMESTAMP,
  BSONRegExp: R_REGEX,
  Code: R_CODE,
  MinKey: R_MIN,
  MaxKey: R_MAX,
  DBRef: R_OBJECT
}

/**
 * A sentinel that sorts just below (side -1) or just above (side 1) every value of one type rank,
 * or below/above everything. Index range scans use it to express type-bracketed bounds.
 */
export class Bound {
  constructor (readonly pos: number) {}
  static below (rank: number): Bound { return new Bound(rank - 0.5) }
  static above (rank: number): Bound { return new Bound(rank + 0.5) }
}
export const MIN_BOUND = new Bound(0)
export const MAX_BOUND = new Bound(1000)

type AnyObj = Record<string, any>

export function bsonTypeName (v: unknown): string | undefined {
  return (v !== null && typeof v === 'object') ? (v as AnyObj)._bsontype : undefined
}

export function typeRank (v: unknown): number {
  switch (typeof v) {
    case 'number': case 'bigint': return R_NUMBER
    case 'string': return R_STRING
    case 'boolean': return R_BOOL
    case 'undefined': return R_NULL
    case 'object': break
    default: return R_OBJECT
  }
  if (v === null) return R_NULL
  if (Array.isArray(v)) return R_ARRAY
  const bt = (v as AnyObj)._bsontype
  if (bt !== undefined) return BSON_RANKS[bt] ?? R_OBJECT
  if (v instanceof Date) return R_DATE
  if (v instanceof RegExp) return R_REGEX
  if (v instanceof Bound) return v.pos
  if (ArrayBuffer.isView(v)) return R_BINARY
  return R_OBJECT
}

/** The numeric value of a number-ranked value: a number, or a bigint for Longs beyond 2^53. */
export function numValue (v: unknown): number | bigint {
  if (typeof v === 'number' || typeof v === 'bigint') return v
  const o = v as AnyObj
  switch (o._bsontype) {
    case 'Int32': case 'Double': return o.value
    case 'Long': {
      const n = o.toNumber() as number
      return Number.isSafeInteger(n) ? n : o.toBigInt()
    }
    case 'Decimal128': return Number(o.toString())
  }
  return NaN
}

/** Is v a number of any BSON flavour? */
export function isNumeric (v: unknown): boolean {
  return typeRank(v) === R_NUMBER
}

function cmpNum (a: number | bigint, b: number | bigint): number {
  // MongoDB orders NaN below every other number and equal to itself
  if (a !== a) return b !== b ? 0 : -1 // eslint-disable-line no-self-compare
  if (b !== b) return 1 // eslint-disable-line no-self-compare
  return a < b ? -1 : a > b ? 1 : 0
}

function cmpPrim (a: string | number | boolean, b: string | number | boolean): number {
  return a < b ? -1 : a > b ? 1 : 0
}

function cmpObjectId (a: AnyObj, b: AnyObj): number {
  // bson 7 keeps an ObjectId as four 24-bit ints: compare those when present, else the hex
  if (typeof a.i0 === 'number' && typeof b.i0 === 'number') {
    return cmpPrim(a.i0, b.i0) || cmpPrim(a.i1, b.i1) || cmpPrim(a.i2, b.i2) || cmpPrim(a.i3, b.i3)
  }
  return cmpPrim(a.toHexString(), b.toHexString())
}

function bytesOf (v: AnyObj): Uint8Array {
  if (v._bsontype === 'Binary') return (v.buffer as Uint8Array).subarray(0, v.position)
  return v as Uint8Array
}

function cmpBinary (a: AnyObj, b: AnyObj): number {
  const x = bytesOf(a)
  const y = bytesOf(b)
  if (x.length !== y.length) return x.length < y.length ? -1 : 1
  const st = cmpPrim(a.sub_type ?? 0, b.sub_type ?? 0)
  if (st !== 0) return st
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return x[i] < y[i] ? -1 : 1
  return 0
}

function cmpObjects (a: AnyObj, b: AnyObj): number {
  const ka = Object.keys(a)
  const kb = Object.keys(b)
  const n = Math.min(ka.length, kb.length)
  for (let i = 0; i < n; i++) {
    const va = a[ka[i]]
    const vb = b[kb[i]]
    const r = cmpPrim(typeRank(va), typeRank(vb)) || cmpPrim(ka[i], kb[i]) || compareBson(va, vb)
    if (r !== 0) return r
  }
  return cmpPrim(ka.length, kb.length)
}

function cmpArrays (a: unknown[], b: unknown[]): number {
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) {
    const r = compareBson(a[i], b[i])
    if (r !== 0) return r
  }
  return cmpPrim(a.length, b.length)
}

function regexParts (v: AnyObj): [string, string] {
  return v instanceof RegExp ? [v.source, v.flags] : [v.pattern, v.options]
}

/** Total order over BSON values, MongoDB style. Missing (undefined) compares as null. */
export function compareBson (a: unknown, b: unknown): number {
  const ta = typeof a
  if (ta === typeof b) {
    if (ta === 'number') return cmpNum(a as number, b as number)
    if (ta === 'string') return cmpPrim(a as string, b as string)
    // hot path for index keys: two ObjectIds (bson 7 keeps them as four 24-bit ints)
    if (ta === 'object' && a !== null && b !== null && typeof (a as AnyObj).i0 === 'number' && typeof (b as AnyObj).i0 === 'number' &&
      (a as AnyObj)._bsontype === 'ObjectId' && (b as AnyObj)._bsontype === 'ObjectId') return cmpObjectId(a as AnyObj, b as AnyObj)
    if (a instanceof Date && b instanceof Date) return cmpNum(a.getTime(), b.getTime())
  }
  const ra = typeRank(a)
  const rb = typeRank(b)
  if (ra !== rb) return ra < rb ? -1 : 1
  const x = a as AnyObj
  const y = b as AnyObj
  switch (ra) {
    case R_NUMBER: return cmpNum(numValue(a), numValue(b))
    case R_STRING: return cmpPrim(typeof a === 'string' ? a : x.value, typeof b === 'string' ? b : y.value)
    case R_OBJECT: return cmpObjects(x, y)
    case R_ARRAY: return cmpArrays(x as unknown[], y as unknown[])
    case R_BINARY: return cmpBinary(x, y)
    case R_OBJECTID: return cmpObjectId(x, y)
    case R_BOOL: return cmpPrim(a as boolean, b as boolean)
    case R_DATE: return cmpNum(x.getTime(), y.getTime())
    case R_TIMESTAMP: return cmpPrim(x.t, y.t) || cmpPrim(x.i, y.i)
    case R_REGEX: {
      const [pa, fa] = regexParts(x)
      const [pb, fb] = regexParts(y)
      return cmpPrim(pa, pb) || cmpPrim(fa, fb)
    }
    case R_CODE: return cmpPrim(String(x.code), String(y.code))
    default: return 0 // null/missing, MinKey, MaxKey, equal bounds
  }
}

export function bsonEquals (a: unknown, b: unknown): boolean {
  return compareBson(a, b) === 0
}

/**
 * The value as index keys hold it: numeric wrappers become plain numbers (bigint past 2^53) so the
 * tree comparator takes its fast path; everything else is kept by reference.
 */
export function keyValue (v: unknown): unknown {
  if (v !== null && typeof v === 'object') {
    const bt = (v as AnyObj)._bsontype
    if (bt === 'Int32' || bt === 'Double' || bt === 'Long' || bt === 'Decimal128') return numValue(v)
  }
  return v
}

/**
 * A string that is equal for values MongoDB considers equal, for hashable types (numbers, strings,
 * ObjectIds, dates, booleans, null); undefined for the rest (compare those with bsonEquals).
 */
export function hashKey (v: unknown): string | undefined {
  switch (typeRank(v)) {
    case R_NUMBER: {
      const n = numValue(v)
      return 'n' + (n === 0 ? '0' : String(n)) // -0 and 0 are one key; 1 and 1n print alike
    }
    case R_STRING: return 's' + (typeof v === 'string' ? v : (v as AnyObj).value)
    case R_OBJECTID: return 'o' + (v as AnyObj).toHexString()
    case R_DATE: return 'd' + (v as Date).getTime()
    case R_BOOL: return v === true ? 'T' : 'F'
    case R_NULL: return 'z'
  }
  return undefined
}
