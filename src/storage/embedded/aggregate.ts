/**
 * aggregate: the leading $match/$sort/$skip/$limit stages run through the collection's indexed find
 * (so countDocuments on an indexed filter does not scan everything, and explain describes that find);
 * the rest runs in mingo's Aggregator over the stored (frozen) documents, with BSON-aware comparisons
 * from match.ts.
 */
import { Aggregator } from 'mingo/aggregator'
import { OpType, ProcessingMode } from 'mingo/core'
import { toPlainNumbers } from './agg-operators.js'
import { typeRank, R_NUMBER } from './bson-order.js'
import type { Collection } from './collection.js'
import { explainFind } from './explain-plan.js'
import { asCommandError, MINGO_CONTEXT, mingoOptions } from './match.js'
import { MongoCommandError, type Document, type ExplainVerbosity, type FindQuery } from './store.types.js'

const UNSUPPORTED = new Set(['$out', '$merge', '$collStats', '$indexStats', '$currentOp', '$listSessions', '$changeStream', '$search'])

function numberOf (v: unknown): number {
  return Number((v as any)?.valueOf?.() ?? v)
}

/** Rejects what MongoDB would reject before running anything: malformed, unknown and unsupported stages. */
function checkPipeline (pipeline: Document[]): void {
  if (!Array.isArray(pipeline)) throw new MongoCommandError(14, 'TypeMismatch', "'pipeline' option must be specified as an array")
  for (const stage of pipeline) {
    const keys = stage !== null && typeof stage === 'object' ? Object.keys(stage) : []
    if (keys.length !== 1) throw new MongoCommandError(40323, 'Location40323', 'A pipeline stage specification object must contain exactly one field.')
    if (UNSUPPORTED.has(keys[0])) throw new MongoCommandError(2, 'BadValue', `${keys[0]} is not supported by the embedded engine`)
    if (MINGO_CONTEXT.getOperator(OpType.PIPELINE, keys[0]) === null) {
      throw new MongoCommandError(40324, 'Location40324', `Unrecognized pipeline stage name: '${keys[0]}'`)
    }
  }
}

/** The leading stages the indexed find can do, as a find, and the stages left after them. */
function foldPipeline (pipeline: Document[]): { query: FindQuery; rest: Document[] } {
  const query: FindQuery = {}
  let i = 0
  if (pipeline[i]?.$match !== undefined) query.filter = pipeline[i++].$match
  if (pipeline[i]?.$sort !== undefined) query.sort = pipeline[i++].$sort
  if (pipeline[i]?.$skip !== undefined) query.skip = numberOf(pipeline[i++].$skip)
  if (pipeline[i]?.$limit !== undefined) query.limit = numberOf(pipeline[i++].$limit)
  return { query, rest: pipeline.slice(i) }
}

/**
 * explain of an aggregate. A pipeline the find answers whole is explained as that find (top-level
 * queryPlanner), as MongoDB does; otherwise `{ stages: [{ $cursor: <the find's explain> }, ...the rest] }`.
 */
export function explainAggregate (ns: string, coll: Collection | undefined, pipeline: Document[], verbosity: ExplainVerbosity): Document {
  checkPipeline(pipeline)
  const { query, rest } = foldPipeline(pipeline)
  const cursor = explainFind(ns, coll, query, verbosity)
  if (rest.length === 0) return cursor
  const stats = cursor.executionStats as Document | undefined
  const first = stats === undefined ? { $cursor: cursor } : { $cursor: cursor, nReturned: stats.nReturned, executionTimeMillisEstimate: stats.executionTimeMillis }
  return { stages: [first, ...rest] }
}

export function runAggregate (coll: Collection | undefined, pipeline: Document[], resolve: (name: string) => Document[]): Document[] {
  checkPipeline(pipeline)
  // fold the leading stages the indexed find can do
  const { query, rest } = foldPipeline(pipeline)
  const input = coll === undefined ? [] : coll.findRecs(query).map(r => r.doc)
  if (rest.length === 0) return input
  const counted = countShortcut(rest, input.length)
  if (counted !== undefined) return counted
  try {
    // literals from the wire are Int32/Double wrappers mingo cannot read ($limit, $project flags, $sum: 1)
    const stages = rewriteStages(toPlainNumbers(rest) as Document[])
    const run = (mode: ProcessingMode): Document[] => new Aggregator(stages, mingoOptions({
      processingMode: mode,
      collectionResolver: resolve as any
    })).run(input) as Document[]
    try {
      return run(ProcessingMode.CLONE_OFF)
    } catch (err) {
      // a stage that writes into its input documents hits the frozen stored ones: run it on copies
      if (err instanceof TypeError && /read.only|not extensible|frozen/i.test(err.message)) return run(ProcessingMode.CLONE_INPUT)
      throw err
    }
  } catch (err) {
    throw asCommandError(err)
  }
}

/**
 * mongoose's countDocuments ends in `{ $group: { _id: 1, n: { $sum: 1 } } }`: answer it from the
 * matched count without building a mingo pipeline.
 */
function countShortcut (rest: Document[], n: number): Document[] | undefined {
  if (rest.length !== 1 || rest[0].$group === null || typeof rest[0].$group !== 'object') return undefined
  const { _id: id, ...fields } = rest[0].$group as Document
  const names = Object.keys(fields)
  if (names.length !== 1) return undefined
  const acc = fields[names[0]]
  const one = acc !== null && typeof acc === 'object' && Object.keys(acc).length === 1 && numberOf(acc.$sum) === 1
  const literalId = id === null || typeof id === 'number' || (typeof id === 'object' && (id as Document)._bsontype !== undefined && typeRank(id) === R_NUMBER)
  if (!one || !literalId) return undefined
  return n === 0 ? [] : [{ _id: toPlainNumbers(id), [names[0]]: n }]
}

/** Stages whose mingo behaviour differs from MongoDB's, rewritten (also inside $facet). */
function rewriteStages (stages: Document[]): Document[] {
  return stages.flatMap(stage => {
    // MongoDB's $count emits nothing for no input; mingo emits { name: 0 }
    if (typeof stage.$count === 'string') return [{ $group: { _id: null, [stage.$count]: { $sum: 1 } } }, { $project: { _id: 0 } }]
    if (stage.$facet !== undefined && stage.$facet !== null && typeof stage.$facet === 'object') {
      const facets = Object.fromEntries(Object.entries(stage.$facet as Document).map(([k, p]) => [k, Array.isArray(p) ? rewriteStages(p) : p]))
      return [{ $facet: facets }]
    }
    return [stage]
  })
}
