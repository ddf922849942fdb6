/**
 * BSON-aware replacements for mingo's value-comparing query operators ($eq, $in, $gt, $type, ...)
 * and expression comparisons. mingo compares bson's wrapper classes (Int32, Long, ObjectId...) by
 * their toString, so these compare with bson-order instead, following MongoDB's array rules: a
 * condition matches the value or one of its elements, and ranges stay within one type bracket.
 */
import type { Options } from 'mingo/types'
import { evalExpr } from 'mingo/core'
import { resolve } from 'mingo/util'
import * as queryOps from 'mingo/operators/query'
import { bsonEquals, bsonTypeName, compareBson, hashKey, numValue, typeRank, R_NUMBER } from './bson-order.js'
import { MongoCommandError } from './store.types.js'

export type Pred = (o: unknown) => boolean
type AnyObj = Record<string, any>

function depthOf (selector: string): number {
  let d = 0
  for (let i = 0; i < selector.length; i++) if (selector.charCodeAt(i) === 46) d++
  return d
}

/** Like mingo's processQuery: resolve the path (through arrays) and test the value. */
function fieldOp (test: (lhs: unknown, rhs: any, depth: number) => boolean) {
  return (selector: string, value: unknown, _options: Options): Pred => {
    const depth = depthOf(selector)
    return (o) => test(resolve(o as AnyObj, selector, { unwrapArray: true }), value, depth)
  }
}

function flatten (xs: unknown[], depth: number): unknown[] {
  const out: unknown[] = []
  const walk = (ys: unknown[], n: number): void => {
    for (const y of ys) {
      if (Array.isArray(y) && n > 0) walk(y, n - 1)
      else out.push(y)
    }
  }
  walk(xs, depth)
  return out
}

export function eqTest (lhs: unknown, rhs: unknown, depth = 0): boolean {
  if (bsonEquals(lhs, rhs)) return true
  if (Array.isArray(lhs)) {
    return lhs.some(v => bsonEquals(v, rhs)) || (depth > 0 && flatten(lhs, depth).some(v => bsonEquals(v, rhs)))
  }
  return false
}

/**
 * The values a condition is tried against: the value itself and, for arrays, their elements (one
 * level, plus the levels added by traversing arrays along a dotted path). Nested arrays are not opened.
 */
function candidates (lhs: unknown, depth: number): unknown[] {
  if (!Array.isArray(lhs)) return [lhs]
  return depth > 0 ? [lhs, ...lhs, ...flatten(lhs, depth)] : [lhs, ...lhs]
}

/** Range operators compare only within one type bracket, as MongoDB does. */
function rangeTest (accept: (c: number) => boolean) {
  return (lhs: unknown, rhs: unknown, depth: number): boolean => {
    const rank = typeRank(rhs)
    for (const v of candidates(lhs, depth)) {
      if (typeRank(v) === rank && accept(compareBson(v, rhs))) return true
    }
    return false
  }
}

function inTest (values: unknown[], depth: number): (lhs: unknown) => boolean {
  if (!Array.isArray(values)) throw new MongoCommandError(2, 'BadValue', '$in needs an array')
  const hashed = new Set<string>()
  const others: unknown[] = []
  const regexes: RegExp[] = []
  for (const v of values) {
    if (v instanceof RegExp) regexes.push(v)
    else {
      const h = hashKey(v)
      if (h !== undefined) hashed.add(h)
      else others.push(v)
    }
  }
  const one = (v: unknown): boolean => {
    const h = hashKey(v)
    if (h !== undefined && hashed.has(h)) return true
    if (others.length > 0 && others.some(o => bsonEquals(v, o))) return true
    return regexes.length > 0 && typeof v === 'string' && regexes.some(r => r.test(v))
  }
  return (lhs) => {
    if (lhs === undefined) return one(null)
    return candidates(lhs, depth).some(one)
  }
}

const TYPE_CODES: Record<number, string> = {
  1: 'double', 2: 'string', 3: 'object', 4: 'array', 5: 'binData', 6: 'undefined', 7: 'objectId', 8: 'bool',
  9: 'date', 10: 'null', 11: 'regex', 12: 'dbPointer', 13: 'javascript', 14: 'symbol', 15: 'javascriptWithScope',
  16: 'int', 17: 'timestamp', 18: 'long', 19: 'decimal', [-1]: 'minKey', 127: 'maxKey'
}

const BSON_ALIASES: Record<string, string> = {
  Int32: 'int', Double: 'double', Long: 'long', Decimal128: 'decimal', BSONSymbol: 'symbol', Binary: 'binData',
  ObjectId: 'objectId', Timestamp: 'timestamp', BSONRegExp: 'regex', MinKey: 'minKey', MaxKey: 'maxKey', DBRef: 'object'
}

/** MongoDB's $type alias of a value. */
export function typeAlias (v: unknown): string {
  if (v === null) return 'null'
  switch (typeof v) {
    case 'undefined': return 'undefined'
    case 'string': return 'string'
    case 'boolean': return 'bool'
    case 'bigint': return 'long'
    case 'number': return Number.isInteger(v) && Math.abs(v) <= 0x7fffffff ? 'int' : 'double'
  }
  if (Array.isArray(v)) return 'array'
  const bt = bsonTypeName(v)
  if (bt === 'Code') return (v as AnyObj).scope != null ? 'javascriptWithScope' : 'javascript'
  if (bt !== undefined) return BSON_ALIASES[bt] ?? 'object'
  if (v instanceof Date) return 'date'
  if (v instanceof RegExp) return 'regex'
  if (ArrayBuffer.isView(v)) return 'binData'
  return 'object'
}

function typeTest (lhs: unknown, spec: unknown): boolean {
  const wanted = (Array.isArray(spec) ? spec : [spec]).map(t => {
    if (typeof t === 'string') return t
    const code = Number(numValue(t))
    const name = TYPE_CODES[code]
    if (name === undefined) throw new MongoCommandError(2, 'BadValue', `Invalid numerical type code: ${String(code)}`)
    return name
  })
  if (lhs === undefined) return false
  const vals = Array.isArray(lhs) ? [lhs, ...lhs] : [lhs]
  return vals.some(v => {
    const alias = typeAlias(v)
    return wanted.some(w => w === alias || (w === 'number' && typeRank(v) === R_NUMBER))
  })
}

function toNumber (v: unknown): number { return Number(numValue(v)) }

const mingoAll = queryOps.$all as unknown as (s: string, v: unknown, o: Options) => Pred
const mingoExists = queryOps.$exists as unknown as (s: string, v: unknown, o: Options) => Pred

export const BSON_QUERY_OPS = {
  $eq: fieldOp((l, r, d) => eqTest(l, r, d)),
  $ne: fieldOp((l, r, d) => !eqTest(l, r, d)),
  $gt: fieldOp(rangeTest(c => c > 0)),
  $gte: fieldOp(rangeTest(c => c >= 0)),
  $lt: fieldOp(rangeTest(c => c < 0)),
  $lte: fieldOp(rangeTest(c => c <= 0)),
  $in: (selector: string, value: unknown[]): Pred => {
    const t = inTest(value, depthOf(selector))
    return (o) => t(resolve(o as AnyObj, selector, { unwrapArray: true }))
  },
  $nin: (selector: string, value: unknown[]): Pred => {
    const t = inTest(value, depthOf(selector))
    return (o) => !t(resolve(o as AnyObj, selector, { unwrapArray: true }))
  },
  $type: fieldOp((l, r) => typeTest(l, r)),
  $size: fieldOp((l, r) => Array.isArray(l) && l.length === toNumber(r)),
  $mod: fieldOp((l, r) => {
    if (!Array.isArray(r) || r.length !== 2) throw new MongoCommandError(2, 'BadValue', 'malformed mod, needs to be an array of 2 elements')
    const [div, rem] = [Math.trunc(toNumber(r[0])), Math.trunc(toNumber(r[1]))]
    if (div === 0) throw new MongoCommandError(2, 'BadValue', 'divisor cannot be 0')
    const vals = Array.isArray(l) ? l : [l]
    return vals.some(v => typeRank(v) === R_NUMBER && Math.trunc(toNumber(v)) % div === rem)
  }),
  $exists: (selector: string, value: unknown, options: Options): Pred => {
    const flag = typeRank(value) === R_NUMBER ? toNumber(value) !== 0 : Boolean(value)
    return mingoExists(selector, flag, options)
  },
  $all: (selector: string, value: unknown[], options: Options): Pred => {
    if (!Array.isArray(value)) throw new MongoCommandError(2, 'BadValue', '$all needs an array')
    if (value.some(v => v !== null && typeof v === 'object' && '$elemMatch' in (v as AnyObj))) return mingoAll(selector, value, options)
    return (o) => {
      const l = resolve(o as AnyObj, selector, { unwrapArray: true })
      if (value.length === 0) return false
      return value.every(v => v instanceof RegExp
        ? (Array.isArray(l) ? l : [l]).some(x => typeof x === 'string' && v.test(x))
        : eqTest(l, v, depthOf(selector)))
    }
  }
}

/** Expression comparisons ($expr, aggregation) in BSON order too. */
function exprCmp (accept: (c: number) => boolean) {
  return (obj: unknown, expr: unknown, options: Options): unknown => {
    const args = evalExpr(obj, expr, options) as unknown[]
    if (!Array.isArray(args) || args.length !== 2) throw new MongoCommandError(16020, 'Location16020', 'Expression takes exactly 2 arguments')
    return accept(compareBson(args[0], args[1]))
  }
}

export const BSON_EXPRESSION_OPS = {
  $eq: exprCmp(c => c === 0),
  $ne: exprCmp(c => c !== 0),
  $gt: exprCmp(c => c > 0),
  $gte: exprCmp(c => c >= 0),
  $lt: exprCmp(c => c < 0),
  $lte: exprCmp(c => c <= 0),
  $cmp: (obj: unknown, expr: unknown, options: Options): unknown => {
    const [a, b] = evalExpr(obj, expr, options) as unknown[]
    return compareBson(a, b)
  }
}
