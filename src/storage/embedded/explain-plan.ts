/**
 * explain for a find: the query is run (results dropped) and what the read path recorded (ScanStats) is
 * described as MongoDB does, as `queryPlanner.winningPlan` and `executionStats.executionStages` trees of
 * PROJECTION_*, LIMIT, SKIP, SORT, FETCH, SORT_MERGE, OR, IXSCAN, COLLSCAN, IDHACK and EOF stages with
 * MongoDB's field names, so tools and tests written against MongoDB's explain read the engine's too.
 */
import { performance } from 'node:perf_hooks'
import { Bound, compareBson, MAX_BOUND, MIN_BOUND, R_ARRAY, R_BOOL, R_DATE, R_NUMBER, R_OBJECT, R_OBJECTID, R_STRING, R_TIMESTAMP } from './bson-order.js'
import type { Collection, ScanStats } from './collection.js'
import { formatValue } from './doc-utils.js'
import { parsedQuery, residualFilter } from './explain-query.js'
import type { FieldInterval } from './index-tree.js'
import type { Plan } from './query-planner.js'
import type { Document, ExplainVerbosity, FindQuery } from './store.types.js'

/** A plan stage: what queryPlanner shows (`spec`), what executionStats adds (`exec`), its input stages. */
interface Stage { stage: string; spec: Document; exec: Document; nReturned: number; inputs: Stage[]; many?: boolean }

/** MongoDB's default in-memory sort budget (internalQueryMaxBlockingSortMemoryUsageBytes). */
const SORT_MEM_LIMIT = 104_857_600

const stage = (name: string, nReturned: number, spec: Document = {}, exec: Document = {}, inputs: Stage[] = [], many = false): Stage =>
  ({ stage: name, spec, exec, nReturned, inputs, many })

/** Runs the find and returns `{ queryPlanner, executionStats? }` as MongoDB's explain of it. */
export function explainFind (ns: string, coll: Collection | undefined, query: FindQuery, verbosity: ExplainVerbosity): Document {
  const stats: ScanStats = { examined: 0 }
  const started = performance.now()
  const n = coll?.findRecs(query, stats).length ?? 0
  const millis = Math.round(performance.now() - started)
  const root = coll === undefined ? stage('EOF', 0) : topStages(query, stats, baseStage(query, stats))
  const out: Document = {
    queryPlanner: {
      namespace: ns,
      indexFilterSet: false,
      parsedQuery: parsedQuery(query.filter),
      maxIndexedOrSolutionsReached: false,
      maxIndexedAndSolutionsReached: false,
      maxScansToExplodeReached: false,
      winningPlan: planDoc(root),
      rejectedPlans: []
    }
  }
  if (verbosity === 'queryPlanner') return out
  out.executionStats = {
    executionSuccess: true,
    nReturned: n,
    executionTimeMillis: millis,
    totalKeysExamined: (stats.keys ?? []).flat().reduce((a, b) => a + b, 0),
    totalDocsExamined: stats.examined,
    executionStages: execDoc(root, millis),
    ...(verbosity === 'allPlansExecution' ? { allPlansExecution: [] } : {})
  }
  return out
}

/** The stages that produce the matching documents: an index walk (and its FETCH) or a collection scan. */
function baseStage (query: FindQuery, stats: ScanStats): Stage {
  const matched = stats.matched ?? 0
  const keys = stats.keys ?? []
  if (stats.idLookup === true) return stage('IDHACK', matched, {}, { keysExamined: keys[0]?.[0] ?? 0, docsExamined: stats.examined })
  const fetch = (input: Stage, filter: Document | undefined): Stage =>
    stage('FETCH', matched, filter === undefined ? {} : { filter }, { docsExamined: stats.examined, alreadyHasObj: 0 }, [input])
  if (stats.union !== undefined) {
    const branches = stats.union.map((p, i) => ixscan(p, p.intervals, keys[i]?.[0] ?? 0))
    const or = stage('OR', stats.examined, {}, { dupsTested: branches.reduce((a, b) => a + b.nReturned, 0), dupsDropped: stats.dups ?? 0 }, branches, true)
    return fetch(or, parsedQuery(query.filter))
  }
  const plan = stats.plan
  if (plan === undefined) {
    const filter = query.filter !== undefined && Object.keys(query.filter).length > 0 ? parsedQuery(query.filter) : undefined
    const backward = Number((query.sort ?? query.hint as Document | undefined)?.$natural) < 0
    return stage('COLLSCAN', matched, { ...(filter === undefined ? {} : { filter }), direction: backward ? 'backward' : 'forward' }, { docsExamined: stats.examined })
  }
  const residual = residualFilter(query.filter, plan)
  if (plan.merge === undefined) {
    const scan = ixscan(plan, plan.intervals, keys[0]?.[0] ?? 0, stats.dups ?? 0)
    return fetch(scan, residual)
  }
  const walks = plan.intervals.map((iv, i) => ixscan(plan, [iv], keys[0]?.[i] ?? 0))
  const merged = walks.reduce((a, b) => a + b.nReturned, 0)
  return fetch(stage('SORT_MERGE', merged, { sortPattern: { ...query.sort } }, { dupsTested: 0, dupsDropped: 0 }, walks, true), residual)
}

function ixscan (plan: Plan, intervals: FieldInterval[][], keys: number, dups = 0): Stage {
  const ix = plan.index
  const spec: Document = {
    keyPattern: { ...ix.spec.key },
    indexName: ix.name,
    isMultiKey: ix.multikey,
    isUnique: ix.unique,
    isSparse: ix.sparse,
    isPartial: ix.spec.partialFilterExpression != null,
    indexVersion: 2,
    direction: plan.dir === 1 ? 'forward' : 'backward',
    indexBounds: indexBounds(plan, intervals)
  }
  return stage('IXSCAN', keys - dups, spec, { keysExamined: keys, seeks: Math.max(1, intervals.length), dupsTested: plan.index.multikey ? keys : 0, dupsDropped: dups })
}

/** SORT (in memory) or LIMIT, and SKIP, over the base stage, with the counts each passed on. */
function topStages (query: FindQuery, stats: ScanStats, base: Stage): Stage {
  const skip = Math.max(0, query.skip ?? 0)
  const limit = Math.abs(query.limit ?? 0)
  const sort = query.sort ?? {}
  const natural = '$natural' in sort
  const inMemory = Object.keys(sort).length > 0 && !natural && stats.sortedByIndex !== true && stats.idLookup !== true
  let top = base
  if (inMemory) {
    const keep = limit > 0 ? Math.min(base.nReturned, skip + limit) : base.nReturned
    const spec = { sortPattern: { ...sort }, memLimit: SORT_MEM_LIMIT, ...(limit > 0 ? { limitAmount: skip + limit } : {}), type: 'simple' }
    top = stage('SORT', keep, spec, { totalDataSizeSorted: 0, usedDisk: false, spills: 0 }, [top])
  }
  if (skip > 0) top = stage('SKIP', Math.max(0, top.nReturned - skip), { skipAmount: skip }, {}, [top])
  if (limit > 0 && !inMemory) top = stage('LIMIT', Math.min(top.nReturned, limit), { limitAmount: limit }, {}, [top])
  const projection = query.projection ?? {}
  if (Object.keys(projection).length > 0) {
    // MongoDB's fast path takes top-level inclusions or exclusions only
    const simple = Object.entries(projection).every(([k, v]) => !k.includes('.') && !k.startsWith('$') && (typeof v === 'number' || typeof v === 'boolean'))
    top = stage(simple ? 'PROJECTION_SIMPLE' : 'PROJECTION_DEFAULT', top.nReturned, { transformBy: { ...projection } }, {}, [top])
  }
  return top
}

function planDoc (s: Stage): Document {
  const doc: Document = { stage: s.stage, ...s.spec }
  if (s.inputs.length > 0) {
    if (s.many === true) doc.inputStages = s.inputs.map(planDoc)
    else doc.inputStage = planDoc(s.inputs[0])
  }
  return doc
}

function execDoc (s: Stage, millis: number): Document {
  const { filter, ...spec } = s.spec
  const works = Math.max(s.nReturned, Number(s.exec.keysExamined ?? s.exec.docsExamined ?? 0))
  const doc: Document = {
    stage: s.stage,
    ...(filter === undefined ? {} : { filter }),
    nReturned: s.nReturned,
    executionTimeMillisEstimate: millis,
    // the engine's stages do not yield: each unit of work read an entry, advanced a result, or ended
    works: works + 1,
    advanced: s.nReturned,
    needTime: works - s.nReturned,
    needYield: 0,
    saveState: 0,
    restoreState: 0,
    isEOF: 1,
    ...spec,
    ...s.exec
  }
  if (s.inputs.length > 0) {
    if (s.many === true) doc.inputStages = s.inputs.map(i => execDoc(i, millis))
    else doc.inputStage = execDoc(s.inputs[0], millis)
  }
  return doc
}

/** `indexBounds` as MongoDB prints them: per field, its intervals in walk order, as strings. */
function indexBounds (plan: Plan, intervals: FieldInterval[][]): Document {
  const out: Document = {}
  plan.index.fields.forEach((field, i) => {
    const all = intervals.map(iv => iv[i]).filter(iv => iv !== undefined)
    const unique = all.filter((iv, j) => all.findIndex(o => sameInterval(o, iv)) === j).sort((a, b) => compareBson(a.lo, b.lo))
    const list = unique.length > 0 || (intervals.length === 0 && i === 0) ? unique : [{ lo: MIN_BOUND, loInc: true, hi: MAX_BOUND, hiInc: true }]
    // bounds are listed in the order the walk meets them: a descending field or a backward walk flips them
    const flip = (plan.index.dirs[i] < 0) !== (plan.dir < 0)
    out[field] = (flip ? [...list].reverse() : list).map(iv => showInterval(iv, flip))
  })
  return out
}

function sameInterval (a: FieldInterval, b: FieldInterval): boolean {
  return a.loInc === b.loInc && a.hiInc === b.hiInc && compareBson(a.lo, b.lo) === 0 && compareBson(a.hi, b.hi) === 0 &&
    (a.lo instanceof Bound) === (b.lo instanceof Bound) && (a.hi instanceof Bound) === (b.hi instanceof Bound)
}

function showInterval (iv: FieldInterval, flip: boolean): string {
  const lo = showBound(iv.lo, false)
  const hi = showBound(iv.hi, true)
  const loOpen = !iv.loInc || lo.open
  const hiOpen = !iv.hiInc || hi.open
  return flip
    ? `${hiOpen ? '(' : '['}${hi.text}, ${lo.text}${loOpen ? ')' : ']'}`
    : `${loOpen ? '(' : '['}${lo.text}, ${hi.text}${hiOpen ? ')' : ']'}`
}

/** Each type's first and last values as MongoDB's bounds print them; `open`: the bound itself is excluded. */
const TYPE_BRACKETS: Record<number, [string, string, boolean]> = {
  [R_NUMBER]: ['-inf.0', 'inf.0', false],
  [R_STRING]: ['""', '{}', true],
  [R_OBJECT]: ['{}', '[]', true],
  [R_ARRAY]: ['[]', 'BinData(0, )', true],
  [R_OBJECTID]: ["ObjectId('000000000000000000000000')", "ObjectId('ffffffffffffffffffffffff')", false],
  [R_BOOL]: ['false', 'true', false],
  [R_DATE]: ['new Date(-9223372036854775808)', 'new Date(9223372036854775807)', false],
  [R_TIMESTAMP]: ['Timestamp(0, 0)', 'Timestamp(4294967295, 4294967295)', false]
}

function showBound (v: unknown, upper: boolean): { text: string; open: boolean } {
  if (!(v instanceof Bound)) return { text: formatValue(v), open: false }
  if (v.pos <= 0) return { text: 'MinKey', open: false }
  if (v.pos >= 1000) return { text: 'MaxKey', open: false }
  // a lower bound is below(rank) = rank - 0.5, an upper one above(rank) = rank + 0.5
  const bracket = TYPE_BRACKETS[upper ? v.pos - 0.5 : v.pos + 0.5]
  if (bracket === undefined) return { text: upper ? 'MaxKey' : 'MinKey', open: false }
  return { text: upper ? bracket[1] : bracket[0], open: upper && bracket[2] }
}
