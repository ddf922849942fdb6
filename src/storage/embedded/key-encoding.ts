/**
 * Order-preserving string encoding of BSON values for index keys: for values a, b,
 * compareBson(a, b) has the sign of comparing encode(a) with encode(b) as JS strings. A compound key
 * is the concatenation of its fields' encodings (each is prefix-free) plus the record id, so the index
 * tree compares plain strings instead of walking BSON values on every comparison.
 *
 * Layout: a rank character (BSON type order) then a type-specific body. Numbers of every BSON type
 * share one encoding (an order-preserving float64, plus an exact offset for Longs beyond 2^53;
 * Decimal128 is approximated by its float64). Strings are escaped so that "\0" cannot end them early.
 * Binary parts are written one byte per character, so keys stay V8 one-byte strings (much faster to
 * compare) unless the data itself has characters above U+00FF or the field is descending.
 */
import {
  Bound, bsonTypeName, numValue, typeRank,
  R_ARRAY, R_BINARY, R_BOOL, R_CODE, R_DATE, R_NUMBER, R_OBJECT, R_OBJECTID, R_REGEX, R_STRING, R_TIMESTAMP
} from './bson-order.js'

type AnyObj = Record<string, any>

const fromCode = String.fromCharCode
const rankChar = (rank: number): string => fromCode(rank * 2 + 2)
/** Sorts above every encoding of this rank and below the next rank's. */
const aboveRank = (rank: number): string => fromCode(rank * 2 + 3)

const f64 = new Float64Array(1)
const u32 = new Uint32Array(f64.buffer)
const HI = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 1 : 0 // index of the high word (little endian: 1)

const bytes4 = (v: number): string => fromCode(v >>> 24, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff)

function encodeDouble (n: number): string {
  if (n !== n) return '\0\0\0\0\0\0\0\0' // eslint-disable-line no-self-compare -- NaN sorts below every number
  f64[0] = n === 0 ? 0 : n // -0 equals 0
  let hi = u32[HI]
  let lo = u32[1 - HI]
  if ((hi & 0x80000000) !== 0) { hi = ~hi >>> 0; lo = ~lo >>> 0 } else hi = (hi | 0x80000000) >>> 0
  return bytes4(hi) + bytes4(lo)
}

function encodeU64 (v: bigint): string {
  return bytes4(Number((v >> 32n) & 0xffffffffn)) + bytes4(Number(v & 0xffffffffn))
}

function encodeNumber (v: unknown): string {
  const n = numValue(v)
  if (typeof n === 'number') return encodeDouble(n) + '\u0001'
  // a Long beyond 2^53: its nearest double, then the exact distance from it
  const d = Number(n)
  const offset = n - BigInt(d)
  if (offset === 0n) return encodeDouble(d) + '\u0001'
  return encodeDouble(d) + (offset < 0n ? '\u0000' + encodeU64(2n ** 64n + offset) : '\u0002' + encodeU64(offset))
}

function encodeString (s: string): string {
  return (s.indexOf('\0') === -1 ? s : s.replace(/\0/g, '\0\u0001')) + '\0\0'
}

function encodeObjectId (o: AnyObj): string {
  if (typeof o.i0 === 'number') {
    const { i0, i1, i2, i3 } = o as { i0: number; i1: number; i2: number; i3: number }
    return fromCode(i0 >>> 16, (i0 >>> 8) & 0xff, i0 & 0xff, i1 >>> 16, (i1 >>> 8) & 0xff, i1 & 0xff,
      i2 >>> 16, (i2 >>> 8) & 0xff, i2 & 0xff, i3 >>> 16, (i3 >>> 8) & 0xff, i3 & 0xff)
  }
  const b = o.id as Uint8Array
  return fromCode(...b.subarray(0, 12))
}

function encodeBinary (v: AnyObj): string {
  const bytes: Uint8Array = v._bsontype === 'Binary' ? (v.buffer as Uint8Array).subarray(0, v.position) : v as Uint8Array
  let s = bytes4(bytes.length) + fromCode(v.sub_type ?? 0)
  for (let i = 0; i < bytes.length; i++) s += fromCode(bytes[i])
  return s
}

function encodeBody (v: unknown, rank: number): string {
  switch (rank) {
    case R_NUMBER: return encodeNumber(v)
    case R_STRING: return encodeString(typeof v === 'string' ? v : (v as AnyObj).value)
    case R_OBJECTID: return encodeObjectId(v as AnyObj)
    case R_DATE: return encodeDouble((v as Date).getTime())
    case R_BOOL: return v === true ? '\u0001' : '\u0000'
    case R_OBJECT: {
      const o = bsonTypeName(v) === 'DBRef' ? (v as AnyObj).toJSON() as AnyObj : v as AnyObj
      let s = ''
      for (const k of Object.keys(o)) {
        const x = o[k]
        if (x === undefined) continue
        const r = typeRank(x)
        s += rankChar(r) + encodeString(k) + encodeBody(x, r)
      }
      return s + '\0'
    }
    case R_ARRAY: {
      let s = ''
      for (const x of v as unknown[]) {
        const r = typeRank(x)
        s += rankChar(r) + encodeBody(x, r)
      }
      return s + '\0'
    }
    case R_BINARY: return encodeBinary(v as AnyObj)
    case R_TIMESTAMP: {
      const t = v as AnyObj
      return bytes4(t.t) + bytes4(t.i)
    }
    case R_REGEX: {
      const r = v as AnyObj
      return v instanceof RegExp ? encodeString(v.source) + encodeString(v.flags) : encodeString(r.pattern) + encodeString(r.options)
    }
    case R_CODE: return encodeString(String((v as AnyObj).code))
    default: return '' // null/missing, MinKey, MaxKey: the rank says it all
  }
}

/** Encoding of one value (missing counts as null). */
export function encodeValue (v: unknown): string {
  const rank = typeRank(v)
  return rankChar(rank) + encodeBody(v, rank)
}

/** The same, ordered the other way, for descending index fields. */
export function complement (s: string): string {
  let out = ''
  for (let i = 0; i < s.length; i++) out += fromCode(0xffff - s.charCodeAt(i))
  return out
}

/** The smallest string above every string that starts with p; undefined when there is none. */
export function successor (p: string): string | undefined {
  let end = p.length
  while (end > 0 && p.charCodeAt(end - 1) === 0xffff) end--
  if (end === 0) return undefined
  return p.slice(0, end - 1) + fromCode(p.charCodeAt(end - 1) + 1)
}

/** Record id suffix: 48 bits, fixed width. */
export function encodeRid (rid: number): string {
  const hi = Math.floor(rid / 2 ** 32)
  return fromCode((hi >>> 8) & 0xff, hi & 0xff) + bytes4(rid >>> 0)
}

/**
 * A position between keys for one field of a range walk: just before (-1) or just after (+1) every
 * key whose field encoding starts with `prefix`. Bound sentinels map to type-bracket positions.
 */
export interface Position { prefix: string; side: -1 | 1 }

export function boundPosition (v: unknown, side: -1 | 1): Position {
  if (v instanceof Bound) {
    if (v.pos <= 0) return { prefix: '', side: -1 }
    if (v.pos >= 1000) return { prefix: '', side: 1 }
    // below(r) and above(r - 1) are the same place: between the keys of two adjacent ranks
    return { prefix: aboveRank(Math.floor(v.pos)), side: -1 }
  }
  return { prefix: encodeValue(v), side }
}
