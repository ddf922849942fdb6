/**
 * The mingo adapter. mingo does not know bson's wrapper classes (Int32, Long, ObjectId...), so its
 * value-comparing operators are replaced by BSON-aware ones (query-operators.ts, agg-operators.ts);
 * the rest (logical operators, $elemMatch, $expr, $where...) stay mingo's and call back into ours
 * through the shared Context. Documents are matched as stored, with no conversion.
 */
import { Context } from 'mingo/core'
import type { Options } from 'mingo/types'
import { Query } from 'mingo/query'
import * as queryOps from 'mingo/operators/query'
import * as expressionOps from 'mingo/operators/expression'
import * as accumulatorOps from 'mingo/operators/accumulator'
import * as pipelineOps from 'mingo/operators/pipeline'
import * as projectionOps from 'mingo/operators/projection'
import * as windowOps from 'mingo/operators/window'
import { BSON_ACCUMULATOR_OPS, BSON_AGG_EXPRESSION_OPS } from './agg-operators.js'
import { MongoCommandError, type Document } from './store.types.js'
import { bsonTypeName } from './bson-order.js'
import { BSON_EXPRESSION_OPS, BSON_QUERY_OPS, type Pred } from './query-operators.js'

type AnyObj = Record<string, any>

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
    return (o) => {
      // mingo evaluates $expr/$where lazily: its errors surface here, per document
      try {
        return q.test(o as AnyObj)
      } catch (err) {
        throw asCommandError(err)
      }
    }
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

