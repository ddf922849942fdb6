/**
 * One collection: its records (insertion order, for natural-order scans), its indexes (always `_id_`),
 * and the index-aware read path. Changes here are synchronous and atomic per document: a change that
 * breaks a unique index is rolled back before the error is thrown. Journaling is the Store's job.
 */
import { typeRank, R_ARRAY, R_REGEX } from './bson-order.js'
import { formatValue, getAt } from './doc-utils.js'
import { IndexKeyError, IndexTree, type IndexKey, type Rec } from './index-tree.js'
import { walkPlan } from './index-walk.js'
import { compileFilter } from './match.js'
import { choosePlan, sortPairs, type Plan } from './query-planner.js'
import { sortDocs } from './sort-docs.js'
import { MongoCommandError, type Document, type FindQuery, type IndexSpec } from './store.types.js'

/** What a find did, for explain and tests: the index walked (none: collection scan), documents examined. */
export interface ScanStats {
  index?: string
  examined: number
  sortedByIndex?: boolean
  /** The plan walked, or one per `$or` branch; neither for a collection scan or an `_id` lookup. */
  plan?: Plan
  union?: Plan[]
  /** Index entries read, per plan (union branch) and per walk (merged point). */
  keys?: number[][]
  /** Entries skipped as already seen (multikey and `$or` walks). */
  dups?: number
  /** Answered by the `_id` lookup, without planning. */
  idLookup?: boolean
  /** Documents that matched the filter, before sort, skip and limit. */
  matched?: number
}

export const ID_INDEX: IndexSpec = { key: { _id: 1 }, name: '_id_' }

export class Collection {
  readonly records = new Map<number, Rec>()
  readonly indexes = new Map<string, IndexTree>()
  private nextRid = 1

  constructor (readonly db: string, readonly name: string, readonly options: Document = {}) {
    this.indexes.set('_id_', new IndexTree(ID_INDEX))
  }

  get idIndex (): IndexTree { return this.indexes.get('_id_') as IndexTree }
  get size (): number { return this.records.size }

  /** The record holding this _id, in O(log n). */
  getById (id: unknown): Rec | undefined {
    return this.idIndex.getOne(id)
  }

  /** Insert a prepared (cloned, frozen, _id set) document. Throws MongoCommandError (11000...). */
  insert (doc: Document): Rec {
    validateId(doc._id)
    const keys = this.keysFor(doc)
    const rec: Rec = { rid: this.nextRid, doc }
    this.addAll(rec, keys, doc)
    this.nextRid++
    this.records.set(rec.rid, rec)
    return rec
  }

  /** Swap a record's document for a new version, keeping indexes right; all or nothing. */
  replace (rec: Rec, doc: Document): void {
    const oldKeys = this.keysFor(rec.doc)
    const newKeys = this.keysFor(doc)
    const changed = newKeys.filter(([ix, k]) => !sameKeys(k, oldKeys.get(ix) as IndexKey[]))
    for (const [ix] of changed) ix.remove(rec, oldKeys.get(ix))
    const oldDoc = rec.doc
    rec.doc = doc
    try {
      this.addAll(rec, changed, doc)
    } catch (err) {
      // put the old version back exactly as it was
      rec.doc = oldDoc
      for (const [ix] of changed) ix.add(rec, oldKeys.get(ix))
      throw err
    }
  }

  /**
   * Add a record's keys to the given indexes, unique ones first; on a duplicate key nothing stays
   * added and the E11000 error is thrown.
   */
  private addAll (rec: Rec, keys: Array<[IndexTree, IndexKey[]]>, doc: Document): void {
    const done: Array<[IndexTree, IndexKey[]]> = []
    for (const [ix, k] of keys) {
      if (!ix.unique) continue
      const clash = ix.tryAdd(rec, k)
      if (clash !== undefined) {
        for (const [d, dk] of done) d.remove(rec, dk)
        throw this.dupError(ix, clash, doc)
      }
      done.push([ix, k])
    }
    for (const [ix, k] of keys) if (!ix.unique) ix.add(rec, k)
  }

  remove (rec: Rec): void {
    for (const ix of this.indexes.values()) ix.remove(rec)
    this.records.delete(rec.rid)
  }

  /** Replay path: put a document by _id without uniqueness checks. */
  putRaw (doc: Document): void {
    const rec = this.getById(doc._id)
    if (rec === undefined) {
      const r: Rec = { rid: this.nextRid++, doc }
      this.records.set(r.rid, r)
      for (const ix of this.indexes.values()) safeAdd(ix, r)
      return
    }
    for (const ix of this.indexes.values()) safeRemove(ix, rec)
    rec.doc = doc
    for (const ix of this.indexes.values()) safeAdd(ix, rec)
  }

  /** Build an index over the existing documents; fails with 11000 on duplicates for unique ones. */
  addIndex (spec: IndexSpec): void {
    const ix = new IndexTree(spec)
    for (const rec of this.records.values()) {
      let keys: IndexKey[]
      try { keys = ix.keysFor(rec.doc) } catch (err) { throw keyError(err) }
      const clash = ix.tryAdd(rec, keys)
      if (clash !== undefined) throw this.dupError(ix, clash, rec.doc)
    }
    this.indexes.set(spec.name, ix)
  }

  addIndexRaw (spec: IndexSpec): void {
    const ix = new IndexTree(spec)
    for (const rec of this.records.values()) safeAdd(ix, rec)
    this.indexes.set(spec.name, ix)
  }

  /** Matching records, index-narrowed, sorted, with skip/limit applied (no projection). */
  findRecs (query: FindQuery, stats?: ScanStats): Rec[] {
    const { filter, sort, hint } = query
    if (sort != null && (typeof sort !== 'object' || Array.isArray(sort))) throw new MongoCommandError(2, 'BadValue', 'sort must be an object')
    const skip = Math.max(0, query.skip ?? 0)
    const limit = Math.abs(query.limit ?? 0)
    const byId = idPoint(filter, sort, hint)
    if (byId !== undefined) {
      // the most common query of all, answered without planning: { _id: <value> }
      const rec = this.getById(byId)
      if (stats !== undefined) {
        const examined = rec === undefined ? 0 : 1
        Object.assign(stats, { index: '_id_', examined, sortedByIndex: false, idLookup: true, keys: [[examined]], matched: examined })
      }
      return rec === undefined || skip > 0 ? [] : [rec]
    }
    const pred = compileFilter(filter)
    const natural = (sort != null && '$natural' in sort) || (hint != null && typeof hint === 'object' && '$natural' in hint)
    if (hint != null && !natural && !this.hasIndex(hint)) {
      throw new MongoCommandError(2, 'BadValue', 'error processing query: planner returned error :: caused by :: hint provided does not correspond to an existing index')
    }
    const plan = natural ? undefined : choosePlan([...this.indexes.values()], filter, sort, hint)
    // no single index fits: a top-level $or whose every branch has one is a union of index walks
    const union = plan === undefined && !natural && hint == null ? this.orPlans(filter) : undefined
    const hasSort = sort != null && Object.keys(sort).length > 0 && !natural
    const want = limit > 0 && (!hasSort || plan?.sorted === true) ? skip + limit : Infinity
    const out: Rec[] = []
    let examined = 0
    const visit = (rec: Rec): boolean => {
      examined++
      if (pred(rec.doc)) out.push(rec)
      return out.length < want
    }
    const keys: number[][] = []
    let dups = 0
    if (plan !== undefined || union !== undefined) {
      const seen = union !== undefined || plan?.index.multikey === true ? new Set<number>() : undefined
      for (const p of union ?? [plan as Plan]) {
        const walked = walkPlan(p, seen, visit)
        keys.push(walked.keys)
        dups += walked.dups
        if (!walked.more) break
      }
    } else {
      const recs = natural && Number(sort?.$natural) < 0 ? [...this.records.values()].reverse() : this.records.values()
      for (const rec of recs) if (!visit(rec)) break
    }
    if (stats !== undefined) {
      stats.index = union !== undefined ? union.map(p => p.index.name).join(',') : plan?.index.name
      stats.examined = examined
      stats.sortedByIndex = plan?.sorted === true
      Object.assign(stats, { plan, union, keys, dups, matched: out.length })
    }
    const keep = limit > 0 ? skip + limit : Infinity
    const sorted = hasSort && plan?.sorted !== true ? sortDocs(out, sortPairs(sort), r => r.doc, keep) : out
    return limit > 0 ? sorted.slice(skip, skip + limit) : sorted.slice(skip)
  }

  /** One plan per branch of a top-level $or (each with the rest of the filter), if all have one. */
  private orPlans (filter: Document | undefined): Plan[] | undefined {
    if (filter == null || !Array.isArray(filter.$or) || filter.$or.length === 0) return undefined
    const { $or: branches, ...rest } = filter
    const indexes = [...this.indexes.values()]
    const plans: Plan[] = []
    for (const branch of branches as unknown[]) {
      if (branch === null || typeof branch !== 'object' || Array.isArray(branch)) return undefined
      const p = choosePlan(indexes, { $and: [rest, branch] }, undefined)
      if (p === undefined) return undefined
      plans.push(p)
    }
    return plans
  }

  private hasIndex (hint: Document | string): boolean {
    if (typeof hint === 'string') return this.indexes.has(hint)
    const keys = Object.keys(hint)
    return [...this.indexes.values()].some(ix => ix.fields.length === keys.length && keys.every((k, i) => k === ix.fields[i]))
  }

  /** The E11000 error MongoDB reports for a duplicate key. */
  dupError (ix: IndexTree, key: IndexKey, doc: Document): MongoCommandError {
    const keyValue: Document = {}
    const values = ix.valuesFor(doc, key)
    ix.fields.forEach((f, i) => {
      const orig = getAt(doc, f.split('.'))
      keyValue[f] = orig !== undefined && !Array.isArray(orig) ? orig : values[i]
    })
    const shown = Object.entries(keyValue).map(([k, v]) => `${k}: ${formatValue(v)}`).join(', ')
    return new MongoCommandError(11000, 'DuplicateKey',
      `E11000 duplicate key error collection: ${this.db}.${this.name} index: ${ix.name} dup key: { ${shown} }`,
      { keyPattern: { ...ix.spec.key }, keyValue })
  }

  private keysFor (doc: Document): KeyList {
    const list = new KeyList()
    try {
      for (const ix of this.indexes.values()) list.push([ix, ix.keysFor(doc)])
    } catch (err) {
      throw keyError(err)
    }
    return list
  }
}

/** Each index with a document's keys for it, in index order. */
class KeyList extends Array<[IndexTree, IndexKey[]]> {
  get (ix: IndexTree): IndexKey[] | undefined {
    for (const [i, k] of this) if (i === ix) return k
    return undefined
  }
}

/** The _id of a `{ _id: <plain value> }` filter with no sort or hint, else undefined. */
function idPoint (filter: Document | undefined, sort: Document | undefined, hint: unknown): unknown {
  if (filter == null || hint != null || (sort != null && Object.keys(sort).length > 0)) return undefined
  const keys = Object.keys(filter)
  if (keys.length !== 1 || keys[0] !== '_id') return undefined
  const v = filter._id
  if (v === null || v === undefined) return undefined
  if (typeof v === 'object') {
    const bt = (v as Document)._bsontype
    // operator documents, subdocuments, arrays and regexes take the general path
    if (bt === undefined || bt === 'BSONRegExp') return undefined
  }
  return v
}

function sameKeys (a: IndexKey[], b: IndexKey[]): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

function validateId (id: unknown): void {
  const r = typeRank(id)
  if (r === R_ARRAY) throw new MongoCommandError(53, 'InvalidIdField', `The '_id' value cannot be of type array`)
  if (r === R_REGEX) throw new MongoCommandError(53, 'InvalidIdField', `The '_id' value cannot be of type regex`)
}

function keyError (err: unknown): MongoCommandError {
  if (err instanceof IndexKeyError) return new MongoCommandError(err.code, err.codeName, err.message)
  return err as MongoCommandError
}

function safeAdd (ix: IndexTree, rec: Rec): void {
  try { ix.add(rec) } catch { /* replay trusts the journal; an unindexable doc stays unindexed */ }
}

function safeRemove (ix: IndexTree, rec: Rec): void {
  try { ix.remove(rec) } catch { /* see safeAdd */ }
}
