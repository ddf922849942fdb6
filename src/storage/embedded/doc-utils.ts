/**
 * Small document helpers: BSON-preserving deep clone, freezing stored documents, reading a concrete
 * path, and printing values the way MongoDB's error messages do.
 */
import { bsonTypeName, compareBson } from './bson-order.js'
import type { Document } from './store.types.js'

function isPlain (v: object): boolean {
  const proto = Object.getPrototypeOf(v)
  return proto === Object.prototype || proto === null
}

/**
 * A Date whose setters throw. Stored documents hold these, since Object.freeze cannot stop
 * `setTime`; it is still a Date to bson's serializer, mingo and everything else.
 */
export class FrozenDate extends Date {}
for (const m of Object.getOwnPropertyNames(Date.prototype).filter(n => n.startsWith('set'))) {
  Object.defineProperty(FrozenDate.prototype, m, {
    value () { throw new TypeError(`Cannot ${m} on a stored document's date`) }
  })
}

/**
 * Deep copy of plain objects and arrays. BSON values (ObjectId, Int32, Binary...) are immutable in
 * practice and shared; Dates are copied (as FrozenDate) because they are mutable.
 */
export function cloneDoc<T> (v: T): T {
  if (v === null || typeof v !== 'object') return v
  if (Array.isArray(v)) return v.map(cloneDoc) as T
  if (v instanceof Date) return new FrozenDate(v.getTime()) as T
  if (bsonTypeName(v) !== undefined || !isPlain(v)) return v
  const out: Document = {}
  for (const k of Object.keys(v)) out[k] = cloneDoc((v as Document)[k])
  return out as T
}

/**
 * Freeze plain objects and arrays in place (and swap plain Dates for FrozenDates), so a stored
 * document cannot be changed by accident. BSON value instances are left alone (bson may cache on them).
 */
export function deepFreeze<T> (v: T): T {
  if (v === null || typeof v !== 'object' || Object.isFrozen(v)) return v
  const o = v as Document
  if (!Array.isArray(v) && (bsonTypeName(v) !== undefined || !isPlain(v))) return v
  for (const k of Object.keys(o)) {
    const x = o[k]
    if (x instanceof Date && !(x instanceof FrozenDate)) o[k] = new FrozenDate(x.getTime())
    else deepFreeze(x)
  }
  return Object.freeze(v)
}

/** Read a concrete dotted path (array segments are indexes). undefined when absent. */
export function getAt (doc: unknown, path: string[]): unknown {
  let v = doc
  for (const p of path) {
    if (v === null || typeof v !== 'object') return undefined
    v = (v as Document)[p]
  }
  return v
}

/** A value as MongoDB prints it in messages such as E11000's `dup key: { name: "x" }`. */
export function formatValue (v: unknown): string {
  if (v === undefined) return 'undefined'
  if (v === null) return 'null'
  if (typeof v === 'string') return JSON.stringify(v)
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v)
  if (Array.isArray(v)) return `[ ${v.map(formatValue).join(', ')} ]`
  if (v instanceof Date) return `new Date(${v.getTime()})`
  if (v instanceof RegExp) return String(v)
  const o = v as Document
  switch (bsonTypeName(v)) {
    case 'ObjectId': return `ObjectId('${o.toHexString() as string}')`
    case 'Int32': case 'Double': return String(o.value)
    case 'Long': return String(o.toString())
    case 'Decimal128': return `NumberDecimal("${o.toString() as string}")`
    case 'Binary': return `BinData(${o.sub_type as number}, ${Buffer.from(o.buffer.subarray(0, o.position)).toString('hex')})`
    case 'Timestamp': return `Timestamp(${o.t as number}, ${o.i as number})`
    case 'MinKey': return 'MinKey'
    case 'MaxKey': return 'MaxKey'
    case undefined: break
    default: return String(o)
  }
  const entries = Object.keys(o).map(k => `${k}: ${formatValue(o[k])}`)
  return entries.length === 0 ? '{}' : `{ ${entries.join(', ')} }`
}

/** Same content, field order and BSON types (Int32(1) differs from Double(1)): "was it modified?" */
export function exactEqual (a: unknown, b: unknown): boolean {
  if (a === b) return true
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') {
    return typeof a === typeof b && (a === b || (Number.isNaN(a) && Number.isNaN(b)))
  }
  if (Array.isArray(a) !== Array.isArray(b)) return false
  if (a instanceof Date || b instanceof Date) return a instanceof Date && b instanceof Date && compareBson(a, b) === 0
  const ta = bsonTypeName(a)
  if (ta !== bsonTypeName(b) || Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return false
  if (ta !== undefined || a instanceof Date || a instanceof RegExp) return compareBson(a, b) === 0
  const ka = Object.keys(a)
  const kb = Object.keys(b)
  if (ka.length !== kb.length) return false
  for (let i = 0; i < ka.length; i++) {
    if (ka[i] !== kb[i] || !exactEqual((a as Document)[ka[i]], (b as Document)[kb[i]])) return false
  }
  return true
}
