/**
 * The mingo adapter. mingo does not know bson's wrapper classes (Int32, Long, ObjectId...), so the
 * value-comparing query operators are replaced here by BSON-aware ones built on bson-order; the rest
 * (logical operators, $elemMatch, $expr, $where...) stay mingo's and call back into these through
 * the shared Context. Documents are matched as stored, with no conversion.
 */
import { Context } from 'mingo/core'
import type { Options } from 'mingo/types'
import { Query } from 'mingo/query'
import { resolve } from 'mingo/util'
import * as queryOps from 'mingo/operators/query'
import * as expressionOps from 'mingo/operators/expression'
import * as accumulatorOps from 'mingo/operators/accumulator'
import * as pipelineOps from 'mingo/operators/pipeline'
import * as projectionOps from 'mingo/operators/projection'
import * as windowOps from 'mingo/operators/window'
import { evalExpr } from 'mingo/core'
import { BSON_ACCUMULATOR_OPS, BSON_AGG_EXPRESSION_OPS } from './agg-operators.js'
import { MongoCommandError, type Document } from './store.types.js'
import { bsonEquals, compareBson, hashKey, numValue, typeRank, R_NUMBER, bsonTypeName } from './bson-order.js'

type Pred = (o: unknown) => boolean
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

const BSON_QUERY_OPS = {
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

const BSON_EXPRESSION_OPS = {
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

/** One Context for every mingo call: mingo's operators, with ours taking precedence. */
export const MINGO_CONTEXT = Context.init({
  query: { ...queryOps, ...BSON_QUERY_OPS } as any,
  expression: { ...expressionOps, ...BSON_AGG_EXPRESSION_OPS, ...BSON_EXPRESSION_OPS } as any,
  accumulator: { ...accumulatorOps, ...BSON_ACCUMULATOR_OPS } as any,
  pipeline: pipelineOps as any,
  projection: projectionOps as any,
  window: windowOps as any
})

/**
 * mingo copies the whole operator Context (hundreds of entries) whenever it is handed plain options,
 * but reuses it when handed its own ComputeOptions instance. mingo does not export that class, so we
 * capture one from inside an operator call once and reuse it for every Query/Aggregator/update.
 */
let computed: Options | undefined
function baseOptions (): Options {
  if (computed === undefined) {
    const grab = Context.init({ query: { $grabOptions: (_s: string, _v: unknown, o: Options) => { computed = o; return () => true } } as any })
    void new Query({ x: { $grabOptions: 1 } }, { context: Context.from(MINGO_CONTEXT, grab), useStrictMode: true, scriptEnabled: true })
    if (computed === undefined) throw new Error('mingo options capture failed')
  }
  return computed
}

/** Options for Query and Aggregator (which reuse a ComputeOptions instance as is). */
export function mingoOptions (extra: Partial<Options> = {}): Partial<Options> {
  if (Object.keys(extra).length === 0) return baseOptions()
  return plainMingoOptions(extra)
}

/** Options for mingo's updater, which spreads its options and so needs a plain object. */
export function plainMingoOptions (extra: Partial<Options> = {}): Partial<Options> {
  return { context: MINGO_CONTEXT, useStrictMode: true, scriptEnabled: true, ...extra }
}

// the updater copies its whole Context on every call: give operator updates one with only query operators
const UPDATE_CONTEXT = Context.init({ query: { ...queryOps, ...BSON_QUERY_OPS } as any })

/** Options for mingo's updater with operator documents (pipelines need plainMingoOptions). */
export function updateMingoOptions (): Partial<Options> {
  return { context: UPDATE_CONTEXT, useStrictMode: true, scriptEnabled: true }
}

/** BSONRegExp (from the wire) becomes a RegExp; MongoDB's x flag has no JS equivalent and is dropped. */
export function normalizeFilter (v: unknown): unknown {
  if (v === null || typeof v !== 'object') return v
  if (Array.isArray(v)) return v.map(normalizeFilter)
  const bt = bsonTypeName(v)
  if (bt === 'BSONRegExp') return toRegExp((v as AnyObj).pattern, (v as AnyObj).options)
  if (bt !== undefined || Object.getPrototypeOf(v) !== Object.prototype) return v
  const out: AnyObj = {}
  for (const [k, x] of Object.entries(v)) out[k] = normalizeFilter(x)
  if (out.$regex !== undefined && !(out.$regex instanceof RegExp) && typeof out.$regex !== 'string') {
    throw new MongoCommandError(2, 'BadValue', '$regex has to be a string')
  }
  if (out.$regex instanceof RegExp && typeof out.$options === 'string') {
    out.$regex = toRegExp(out.$regex.source, out.$regex.flags + out.$options)
    delete out.$options
  }
  return out
}

export function toRegExp (pattern: string, flags: string): RegExp {
  const js = [...new Set(flags.split(''))].filter(f => 'imsu'.includes(f)).join('')
  try {
    return new RegExp(pattern, js)
  } catch (err) {
    throw new MongoCommandError(51091, 'Location51091', `Regular expression is invalid: ${(err as Error).message}`)
  }
}

/** Map mingo's errors (plain Errors) to MongoDB codes; our own errors pass through. */
export function asCommandError (err: unknown): MongoCommandError {
  if (err instanceof MongoCommandError) return err
  const msg = err instanceof Error ? err.message : String(err)
  if (/unknown (top level )?operator|unknown query operator/i.test(msg)) return new MongoCommandError(2, 'BadValue', msg.replace(/^unknown query operator/, 'unknown operator'))
  if (/Invalid regular expression/i.test(msg)) return new MongoCommandError(51091, 'Location51091', msg)
  return new MongoCommandError(2, 'BadValue', msg)
}

const EMPTY: Pred = () => true

/** Compile a filter into a predicate over stored documents. Throws MongoCommandError for bad filters. */
export function compileFilter (filter: Document | undefined): Pred {
  if (filter == null) return EMPTY
  if (typeof filter !== 'object' || Array.isArray(filter)) throw new MongoCommandError(2, 'BadValue', 'filter must be an object')
  if (Object.keys(filter).length === 0) return EMPTY
  try {
    const normalized = normalizeFilter(filter) as AnyObj
    const simple = compileSimple(normalized)
    if (simple !== undefined) return simple
    const q = new Query(normalized, mingoOptions())
    return (o) => q.test(o as AnyObj)
  } catch (err) {
    throw asCommandError(err)
  }
}

const SIMPLE_OPS = new Set(['$eq', '$ne', '$gt', '$gte', '$lt', '$lte', '$in', '$nin', '$exists', '$type', '$size'])

/**
 * The common filters (field equality and comparison operators, no logical operators) compiled
 * straight to our predicates, skipping mingo's per-query setup.
 */
function compileSimple (filter: AnyObj): Pred | undefined {
  const preds: Pred[] = []
  const opts = baseOptions()
  for (const [field, v] of Object.entries(filter)) {
    if (field.startsWith('$')) return undefined
    const isOps = v !== null && typeof v === 'object' && !Array.isArray(v) && Object.getPrototypeOf(v) === Object.prototype &&
      Object.keys(v).some(k => k.startsWith('$'))
    if (!isOps) {
      if (v instanceof RegExp) return undefined
      preds.push(BSON_QUERY_OPS.$eq(field, v, opts))
      continue
    }
    for (const [op, arg] of Object.entries(v as AnyObj)) {
      if (!SIMPLE_OPS.has(op)) return undefined
      if (arg instanceof RegExp && op !== '$in' && op !== '$nin') return undefined
      preds.push((BSON_QUERY_OPS as any)[op](field, arg, opts))
    }
  }
  if (preds.length === 1) return preds[0]
  return (o) => {
    for (let i = 0; i < preds.length; i++) if (!preds[i](o)) return false
    return true
  }
}

