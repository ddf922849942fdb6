/**
 * The filter as explain prints it: MongoDB's `parsedQuery` normal form (one `{ field: { $op: value } }`
 * per condition, top-level `$and`s flattened, several conditions under one `$and`) and the part of it an
 * index walk does not answer, which MongoDB shows as the FETCH stage's `filter`.
 */
import { Bound, compareBson, typeRank, R_ARRAY, R_NULL, R_REGEX } from './bson-order.js'
import type { Plan } from './query-planner.js'
import type { Document } from './store.types.js'

function isPlainObject (v: unknown): v is Document {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && Object.getPrototypeOf(v) === Object.prototype
}

function regexCondition (v: unknown): Document | undefined {
  if (v instanceof RegExp) return v.flags === '' ? { $regex: v.source } : { $regex: v.source, $options: v.flags }
  const r = v as { _bsontype?: string; pattern?: string; options?: string } | null
  if (r?._bsontype !== 'BSONRegExp') return undefined
  return r.options === '' || r.options === undefined ? { $regex: r.pattern } : { $regex: r.pattern, $options: r.options }
}

/** One `{ field: { $op: value } }` (or `{ $or: [...] }`) per condition of the filter. */
export function conditionList (filter: Document | undefined): Document[] {
  const out: Document[] = []
  if (!isPlainObject(filter)) return out
  for (const [field, v] of Object.entries(filter)) {
    if (field === '$and' && Array.isArray(v)) {
      for (const sub of v) out.push(...conditionList(sub as Document))
    } else if (field.startsWith('$')) {
      out.push({ [field]: v })
    } else if (isPlainObject(v) && Object.keys(v).some(k => k.startsWith('$'))) {
      for (const [op, arg] of Object.entries(v)) {
        if (op === '$options') continue
        out.push({ [field]: op === '$regex' && typeof v.$options === 'string' ? { $regex: arg, $options: v.$options } : { [op]: arg } })
      }
    } else {
      out.push({ [field]: regexCondition(v) ?? { $eq: v } })
    }
  }
  return out
}

/** Conditions as one filter document: `{}`, the single condition, or their `$and`. */
export function asFilter (conditions: Document[]): Document | undefined {
  if (conditions.length === 0) return undefined
  return conditions.length === 1 ? conditions[0] : { $and: conditions }
}

export function parsedQuery (filter: Document | undefined): Document {
  return asFilter(conditionList(filter)) ?? {}
}

const POINT_OPS = new Set(['$eq', '$in'])
const RANGE_OPS = new Set(['$gt', '$gte', '$lt', '$lte'])

// null also matches a missing field and arrays match element-wise: the walk only narrows those
function exactPoint (v: unknown): boolean {
  const r = typeRank(v)
  return r !== R_NULL && r !== R_ARRAY && r !== R_REGEX && !(v instanceof RegExp)
}

/** The conditions a walk of `plan` leaves for the fetched documents (the FETCH stage's filter). */
export function residualFilter (filter: Document | undefined, plan: Plan): Document | undefined {
  // which operators each bounded field's intervals answer: equality points, or the one range
  const answers = new Map<string, Set<string>>()
  for (const [i, iv] of (plan.intervals[0] ?? []).entries()) {
    const point = !(iv.lo instanceof Bound) && compareBson(iv.lo, iv.hi) === 0
    answers.set(plan.index.fields[i], point ? POINT_OPS : RANGE_OPS)
  }
  const left = conditionList(filter).filter(cond => {
    const [field] = Object.keys(cond)
    const [op, arg] = Object.entries(cond[field] as Document)[0] ?? []
    if (op === undefined || answers.get(field)?.has(op) !== true) return true
    // each element of an array can satisfy a different half of a range
    if (plan.index.multikey && RANGE_OPS.has(op)) return true
    return op === '$in' ? !(Array.isArray(arg) && arg.every(exactPoint)) : !exactPoint(arg)
  })
  return asFilter(left)
}
