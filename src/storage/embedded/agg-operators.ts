/**
 * Aggregation operators that must see through bson's numeric wrappers: mingo's arithmetic and
 * accumulators only add JS numbers, so an Int32 field would sum to 0. Arguments are evaluated, turned
 * into plain numbers, and handed to mingo's own operator as literals. $min/$max compare in BSON order
 * and return the original values.
 */
import type { Options } from 'mingo/types'
import { evalExpr } from 'mingo/core'
import * as accumulatorOps from 'mingo/operators/accumulator'
import * as expressionOps from 'mingo/operators/expression'
import { bsonTypeName, compareBson, numValue, typeRank, R_NULL, R_NUMBER } from './bson-order.js'

type AnyObj = Record<string, any>
type ExprOp = (obj: unknown, expr: unknown, options: Options) => unknown
type AccOp = (coll: unknown[], expr: unknown, options: Options) => unknown

/** Numeric wrappers become JS numbers (deeply through arrays and plain objects). */
export function toPlainNumbers (v: unknown): unknown {
  if (v === null || typeof v !== 'object') return v
  if (Array.isArray(v)) return v.map(toPlainNumbers)
  const bt = bsonTypeName(v)
  if (bt === 'Int32' || bt === 'Double' || bt === 'Long' || bt === 'Decimal128') return Number(numValue(v))
  if (bt !== undefined || Object.getPrototypeOf(v) !== Object.prototype) return v
  const out: AnyObj = {}
  for (const [k, x] of Object.entries(v)) out[k] = toPlainNumbers(x)
  return out
}

const EXPR = expressionOps as unknown as Record<string, ExprOp>
const ACC = accumulatorOps as unknown as Record<string, AccOp>

function plainArgs (name: string): ExprOp {
  const inner = EXPR[name]
  return (obj, expr, options) => {
    const v = toPlainNumbers(evalExpr(obj, expr, options))
    const literal = Array.isArray(v) ? v.map(x => ({ $literal: x })) : { $literal: v }
    return inner(obj, literal, options)
  }
}

const ARITHMETIC = ['$add', '$subtract', '$multiply', '$divide', '$mod', '$abs', '$ceil', '$floor', '$round', '$trunc',
  '$sqrt', '$pow', '$exp', '$ln', '$log', '$log10', '$sum', '$avg', '$stdDevPop', '$stdDevSamp', '$toDouble', '$toInt',
  '$toLong', '$toDecimal', '$toBool']

function extreme (sign: 1 | -1) {
  return (values: unknown[]): unknown => {
    let best: unknown = null
    for (const v of values) {
      if (typeRank(v) === R_NULL) continue
      if (best === null || sign * compareBson(v, best) > 0) best = v
    }
    return best
  }
}

function exprExtreme (sign: 1 | -1): ExprOp {
  const pick = extreme(sign)
  return (obj, expr, options) => {
    const v = evalExpr(obj, expr, options)
    return pick(Array.isArray(v) ? v : [v])
  }
}

export const BSON_AGG_EXPRESSION_OPS: Record<string, ExprOp> = {
  ...Object.fromEntries(ARITHMETIC.filter(n => EXPR[n] !== undefined).map(n => [n, plainArgs(n)])),
  $min: exprExtreme(-1),
  $max: exprExtreme(1)
}

function values (coll: unknown[], expr: unknown, options: Options): unknown[] {
  return ACC.$push(coll, expr, options) as unknown[]
}

export const BSON_ACCUMULATOR_OPS: Record<string, AccOp> = {
  $sum: (coll, expr, options) => {
    if (typeRank(expr) === R_NUMBER) return coll.length * Number(numValue(expr))
    let total = 0
    for (const v of values(coll, expr, options)) if (typeRank(v) === R_NUMBER) total += Number(numValue(v))
    return total
  },
  $avg: (coll, expr, options) => {
    let total = 0
    let n = 0
    for (const v of values(coll, expr, options)) if (typeRank(v) === R_NUMBER) { total += Number(numValue(v)); n++ }
    return n === 0 ? null : total / n
  },
  $min: (coll, expr, options) => extreme(-1)(values(coll, expr, options)),
  $max: (coll, expr, options) => extreme(1)(values(coll, expr, options))
}
