/**
 * Picks the index that narrows a find the most: an equality prefix (single values or `$in` lists)
 * plus an optional range on the next field, walked in index order. When the sort is the index order
 * (either direction, skipping fields pinned by equality), the walk yields results already sorted
 * and can stop once skip+limit matches are found. When the sort is the order after an `$in` prefix,
 * each point is walked on its own and the walks are merged (MongoDB's SORT_MERGE). The full filter is
 * always re-checked on each candidate, so bounds only need to be a superset of the true matches.
 */
import { Bound, compareBson, keyValue, typeRank, R_ARRAY, R_MAX, R_MIN, R_NULL, R_REGEX } from './bson-order.js'
import type { FieldInterval, IndexTree } from './index-tree.js'
import { MongoCommandError, type Document } from './store.types.js'
import { compileFilter } from './match.js'

export interface Plan {
  index: IndexTree
  /** Each entry bounds a prefix of the index fields; together they are in tree order. */
  intervals: FieldInterval[][]
  /** Walk direction relative to the index order. */
  dir: 1 | -1
  /** The walk yields documents in the requested sort order. */
  sorted: boolean
  /**
   * Set when the intervals are point prefixes of this many fields, each walked on its own and merged on
   * the fields after them: the sort is the index order within one point but not across points.
   */
  merge?: number
}

interface FieldCond { points?: unknown[]; range?: FieldInterval }

const MAX_INTERVALS = 2000

function isPlainObject (v: unknown): v is Document {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && Object.getPrototypeOf(v) === Object.prototype
}

function isOperatorDoc (v: unknown): v is Document {
  return isPlainObject(v) && Object.keys(v).some(k => k.startsWith('$'))
}

// values an index point can stand for: arrays need whole-array semantics, regexes are patterns
function pointable (v: unknown): boolean {
  const r = typeRank(v)
  return r !== R_ARRAY && r !== R_REGEX && !(v instanceof RegExp)
}

/** Collect top-level field conditions (descending into top-level $and) the index can use. */
export function extractConditions (filter: Document | undefined): Map<string, FieldCond> {
  const conds = new Map<string, FieldCond>()
  const add = (field: string, c: FieldCond): void => {
    const prev = conds.get(field)
    if (prev === undefined) { conds.set(field, c); return }
    if (c.points !== undefined && (prev.points === undefined || c.points.length < prev.points.length)) prev.points = c.points
    if (c.range !== undefined) prev.range = prev.range === undefined ? c.range : intersect(prev.range, c.range)
  }
  const visit = (f: Document): void => {
    for (const [field, v] of Object.entries(f)) {
      if (field === '$and' && Array.isArray(v)) { for (const sub of v) if (isPlainObject(sub)) visit(sub); continue }
      if (field.startsWith('$')) continue
      if (!isOperatorDoc(v)) {
        if (pointable(v)) add(field, { points: [keyValue(v)] })
        continue
      }
      const c = fromOperators(v)
      if (c !== undefined) add(field, c)
    }
  }
  if (isPlainObject(filter)) visit(filter)
  return conds
}

function fromOperators (ops: Document): FieldCond | undefined {
  const c: FieldCond = {}
  if ('$eq' in ops && pointable(ops.$eq)) c.points = [keyValue(ops.$eq)]
  if (Array.isArray(ops.$in) && ops.$in.every(pointable) && c.points === undefined) {
    const pts = ops.$in.map(keyValue).sort(compareBson)
    c.points = pts.filter((v, i) => i === 0 || compareBson(v, pts[i - 1]) !== 0)
  }
  for (const op of ['$gt', '$gte', '$lt', '$lte']) {
    if (!(op in ops)) continue
    const v = keyValue(ops[op])
    const rank = typeRank(v)
    if (rank === R_NULL || rank === R_MIN || rank === R_MAX || rank === R_ARRAY || rank === R_REGEX) continue
    // MongoDB brackets comparisons by type: $gt 5 means numbers above 5, not strings
    const iv: FieldInterval = op.startsWith('$g')
      ? { lo: v, loInc: op === '$gte', hi: Bound.above(rank), hiInc: true }
      : { lo: Bound.below(rank), loInc: true, hi: v, hiInc: op === '$lte' }
    c.range = c.range === undefined ? iv : intersect(c.range, iv)
  }
  return c.points !== undefined || c.range !== undefined ? c : undefined
}

function intersect (a: FieldInterval, b: FieldInterval): FieldInterval {
  const lc = compareBson(a.lo, b.lo)
  const hc = compareBson(a.hi, b.hi)
  const lo = lc > 0 ? a : lc < 0 ? b : { lo: a.lo, loInc: a.loInc && b.loInc }
  const hi = hc < 0 ? a : hc > 0 ? b : { hi: a.hi, hiInc: a.hiInc && b.hiInc }
  return { lo: lo.lo, loInc: lo.loInc as boolean, hi: hi.hi, hiInc: hi.hiInc as boolean }
}

/** Does walking `index` (after `pinned` single-value fields) give `sort` order? Returns the direction. */
function sortDirection (index: IndexTree, sort: Array<[string, number]>, pinned: Set<string>): 1 | -1 | 0 {
  if (index.multikey) return 0
  let dir: 1 | -1 | 0 = 0
  let s = 0
  for (let i = 0; i < index.fields.length && s < sort.length; i++) {
    const f = index.fields[i]
    if (f === sort[s][0]) {
      const d = (index.dirs[i] * sort[s][1]) < 0 ? -1 : 1
      if (dir !== 0 && d !== dir) return 0
      dir = d
      s++
    } else if (!pinned.has(f)) return 0
  }
  // sort fields pinned by equality need no order at all
  while (s < sort.length && pinned.has(sort[s][0])) s++
  if (s < sort.length) return 0
  return dir === 0 ? 1 : dir
}

/** A sort document as [field, ±1] pairs; `$natural` and `{ $meta }` entries are left out. */
export function sortPairs (sort: Document | undefined): Array<[string, number]> {
  if (sort == null) return []
  const pairs: Array<[string, number]> = []
  for (const [k, v] of Object.entries(sort)) {
    if (k === '$natural' || (v !== null && typeof v === 'object' && '$meta' in v)) continue
    const n = typeof v === 'number' ? v : Number((v as any)?.valueOf?.())
    if (n !== 1 && n !== -1) throw new MongoCommandError(15975, 'Location15975', '$sort key ordering must be 1 (for ascending) or -1 (for descending)')
    pairs.push([k, n])
  }
  return pairs
}

/** Choose the best index for filter+sort, or undefined for a collection scan. */
export function choosePlan (indexes: IndexTree[], filter: Document | undefined, sort: Document | undefined, hint?: Document | string): Plan | undefined {
  const conds = extractConditions(filter)
  const sortSpec = sortPairs(sort)
  let best: { plan: Plan; score: number } | undefined
  for (const index of indexes) {
    if (index.spec.partialFilterExpression != null && !hinted(index, hint) && !impliesPartial(conds, index.spec.partialFilterExpression)) continue
    const plan = planFor(index, conds, sortSpec)
    if (plan === undefined) continue
    if (hinted(index, hint)) return plan
    const score = scoreOf(index, plan, conds)
    if (score <= 0) continue
    if (best === undefined || score > best.score || (score === best.score && index.fields.length < best.plan.index.fields.length)) best = { plan, score }
  }
  return best?.plan
}

/**
 * A partial index holds only the documents its filter matches, so a query may use it only when every document
 * the query matches is in it. Proven conservatively, as MongoDB does for the simple cases: each field the partial
 * filter names must be pinned by the query to equality points that all satisfy that field's condition
 * (`clientMsgId: 'abc'` implies `clientMsgId: { $type: 'string' }`). Anything else ($or, ranges): not used.
 */
function impliesPartial (conds: Map<string, FieldCond>, partial: Document): boolean {
  const clauses = partialClauses(partial)
  if (clauses === null) return false
  return clauses.every(({ field, matches }) => {
    const points = conds.get(field)?.points
    // a null point also matches documents missing the field, which a partial index may leave out
    if (points === undefined || points.length === 0 || points.some(point => typeRank(point) === R_NULL)) return false
    return points.every(point => matches(withPath(field, point)))
  })
}

interface PartialClause { field: string, matches: (doc: unknown) => boolean }
/** Per partial filter (planning runs per query): its field clauses compiled, or null when it has other operators. */
const clauseCache = new WeakMap<Document, PartialClause[] | null>()

function partialClauses (partial: Document): PartialClause[] | null {
  const cached = clauseCache.get(partial)
  if (cached !== undefined) return cached
  const clauses: PartialClause[] = []
  const collect = (expression: Document): boolean => {
    for (const [field, condition] of Object.entries(expression)) {
      if (field === '$and' && Array.isArray(condition)) {
        if (!condition.every(sub => isPlainObject(sub) && collect(sub))) return false
      } else if (field.startsWith('$')) {
        return false
      } else {
        clauses.push({ field, matches: compileFilter({ [field]: condition }) as (doc: unknown) => boolean })
      }
    }
    return true
  }
  const result = collect(partial) ? clauses : null
  clauseCache.set(partial, result)
  return result
}

/** `{ a: { b: value } }` for the path 'a.b'. */
function withPath (path: string, value: unknown): Document {
  return path.split('.').reduceRight<unknown>((inner, part) => ({ [part]: inner }), value) as Document
}

function hinted (index: IndexTree, hint: Document | string | undefined): boolean {
  if (hint == null) return false
  if (typeof hint === 'string') return hint === index.name
  const keys = Object.keys(hint)
  return keys.length > 0 && keys.length === index.fields.length && keys.every((k, i) => k === index.fields[i])
}

function planFor (index: IndexTree, conds: Map<string, FieldCond>, sort: Array<[string, number]>): Plan | undefined {
  const prefixes: FieldInterval[][] = [[]]
  let combos: FieldInterval[][] = prefixes
  const pinned = new Set<string>()
  const multiPoint = new Set<string>()
  let points = 0
  for (let i = 0; i < index.fields.length; i++) {
    const c = conds.get(index.fields[i])
    if (c === undefined) break
    const nullPoint = c.points?.some(p => typeRank(p) === R_NULL) === true
    if (c.points !== undefined && !(index.sparse && nullPoint) && combos.length * c.points.length <= MAX_INTERVALS) {
      // points listed in tree order so the concatenated walks stay in index order
      const pts = index.dirs[i] < 0 ? [...c.points].reverse() : c.points
      combos = combos.flatMap(prefix => pts.map(p => [...prefix, { lo: p, loInc: true, hi: p, hiInc: true }]))
      if (c.points.length === 1) pinned.add(index.fields[i])
      else multiPoint.add(index.fields[i])
      points++
      continue
    }
    if (c.range !== undefined && !(index.sparse && typeRank(c.range.lo) <= R_NULL)) {
      // an array can satisfy each half of a range with a different element: keep only the low side
      const twoSided = !(c.range.lo instanceof Bound) && !(c.range.hi instanceof Bound)
      const r = index.multikey && twoSided ? { ...c.range, hi: Bound.above(typeRank(c.range.lo)), hiInc: true } : c.range
      combos = combos.map(prefix => [...prefix, r])
    }
    break
  }
  // an empty $in list matches nothing: a plan with no intervals walks nothing
  if (combos.length === 0) return { index, intervals: [], dir: 1, sorted: true }
  const used = combos[0].length
  // a sparse index lacks the documents without its fields: usable only when the bounds exclude them
  if (used === 0 && index.sparse) return undefined
  const dir = sortDirection(index, sort, pinned)
  if (used === 0 && dir === 0) return undefined
  if (dir === 0 && sort.length > 0 && multiPoint.size > 0 && !sort.some(([f]) => multiPoint.has(f))) {
    // sorted within each point's walk: merge the walks rather than sort every match in memory
    const mergeDir = sortDirection(index, sort, new Set([...pinned, ...multiPoint]))
    if (mergeDir !== 0) return { index, intervals: combos, dir: mergeDir, sorted: true, merge: points }
  }
  return { index, intervals: combos, dir: dir === 0 ? 1 : dir, sorted: sort.length > 0 && dir !== 0 }
}

function scoreOf (index: IndexTree, plan: Plan, conds: Map<string, FieldCond>): number {
  if (plan.intervals.length === 0) return 1000
  let score = 0
  const first = plan.intervals[0]
  first.forEach((iv, i) => {
    const point = compareBson(iv.lo, iv.hi) === 0 && !(iv.lo instanceof Bound)
    score += point ? 10 : 5
    if (point && i === index.fields.length - 1 && index.unique && conds.size > 0) score += 100
  })
  if (plan.sorted) score += 3
  return score
}
