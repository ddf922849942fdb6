/**
 * The per-statement write logic of the store (update statements, findAndModify, insert preparation,
 * write errors, distinct). Each function changes memory synchronously and lists the JournalRecords it
 * applied in `records`; the MemoryStore journals them.
 */
import { ObjectId } from 'bson'
import { compareBson, hashKey } from './bson-order.js'
import type { Collection } from './collection.js'
import { cloneDoc, deepFreeze, exactEqual } from './doc-utils.js'
import { pathValues } from './index-tree.js'
import { asCommandError } from './match.js'
import { compileProjection } from './projection.js'
import { applyUpdate, validateUpdate } from './update-apply.js'
import { buildUpsertDoc } from './upsert-seed.js'
import {
  MongoCommandError,
  type Document, type FindAndModifyArgs, type FindAndModifyResult, type JournalRecord, type UpdateResult,
  type UpdateStatement, type WriteError
} from './store.types.js'

/** How the write helpers reach collections; `ensure` creates one (recording createColl) if missing. */
export interface Namespaces {
  get (db: string, coll: string): Collection | undefined
  ensure (db: string, coll: string, records: JournalRecord[]): Collection
}

/** One update statement: matching documents updated (each atomically), or the upsert inserted. */
export function updateStatement (ns: Namespaces, db: string, coll: string, st: UpdateStatement, index: number, result: UpdateResult, records: JournalRecord[]): void {
  validateUpdate(st.u)
  const existing = ns.get(db, coll)
  const recs = existing?.findRecs({ filter: st.q, limit: st.multi === true ? 0 : 1, hint: st.hint }) ?? []
  if (recs.length === 0) {
    if (st.upsert !== true) return
    const doc = deepFreeze(buildUpsertDoc(st.q, st.u, st.arrayFilters))
    ns.ensure(db, coll, records).insert(doc)
    records.push({ t: 'put', db, coll, doc })
    result.n++
    result.upserted.push({ index, _id: doc._id })
    return
  }
  const c = existing as Collection
  for (const rec of recs) {
    const next = applyUpdate(rec.doc, st.u, { filter: st.q, arrayFilters: st.arrayFilters })
    if (exactEqual(next, rec.doc)) { result.n++; continue }
    const doc = deepFreeze(next)
    c.replace(rec, doc)
    records.push({ t: 'put', db, coll, doc })
    result.n++
    result.nModified++
  }
}

/** findAndModify's in-memory part; the caller journals `records` afterwards, success or not. */
export function findAndModifyInMemory (ns: Namespaces, db: string, coll: string, args: FindAndModifyArgs, records: JournalRecord[]): FindAndModifyResult {
  const remove = args.remove === true
  const project = compileProjection(args.fields, args.query)
  const out = (d: Document | null): Document | null => d === null || project === undefined ? d : project(d)
  if (!remove) validateUpdate(args.update)
  const c = ns.get(db, coll)
  const rec = c?.findRecs({ filter: args.query, sort: args.sort, limit: 1 })[0]
  if (rec === undefined) {
    if (remove || args.upsert !== true) return { value: null, lastErrorObject: remove ? { n: 0 } : { n: 0, updatedExisting: false } }
    const doc = deepFreeze(buildUpsertDoc(args.query, args.update as Document, args.arrayFilters))
    ns.ensure(db, coll, records).insert(doc)
    records.push({ t: 'put', db, coll, doc })
    return { value: args.new === true ? out(doc) : null, lastErrorObject: { n: 1, updatedExisting: false, upserted: doc._id } }
  }
  const col = c as Collection
  const old = rec.doc
  if (remove) {
    col.remove(rec)
    records.push({ t: 'del', db, coll, id: old._id })
    return { value: out(old), lastErrorObject: { n: 1 } }
  }
  const next = applyUpdate(old, args.update as Document, { filter: args.query, arrayFilters: args.arrayFilters })
  let doc = old
  if (!exactEqual(next, old)) {
    doc = deepFreeze(next)
    col.replace(rec, doc)
    records.push({ t: 'put', db, coll, doc })
  }
  return { value: out(args.new === true ? doc : old), lastErrorObject: { n: 1, updatedExisting: true } }
}

/** distinct: values at a path over matching documents, arrays unwound one level, BSON-equal ones once. */
export function distinctValues (c: Collection, key: string, query?: Document): unknown[] {
  const seen = new Set<string>()
  const out: unknown[] = []
  const parts = key.split('.')
  for (const rec of c.findRecs({ filter: query })) {
    const { values } = pathValues(rec.doc, parts)
    for (const v of rawValues(rec.doc, parts, values)) {
      const h = hashKey(v)
      if (h !== undefined) {
        if (seen.has(h)) continue
        seen.add(h)
        out.push(v)
      } else if (!out.some(o => compareBson(o, v) === 0)) out.push(v)
    }
  }
  return out.sort(compareBson)
}

/** A stored copy of an inserted document: _id first (generated when missing), frozen. */
export function prepareInsert (doc: Document): Document {
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) throw new MongoCommandError(2, 'BadValue', 'document to insert must be an object')
  const out: Document = { _id: doc._id === undefined ? new ObjectId() : cloneDoc(doc._id) }
  for (const k of Object.keys(doc)) if (k !== '_id') out[k] = cloneDoc(doc[k])
  return deepFreeze(out)
}

// distinct reports original values (not index-normalised numbers), arrays unwound one level
function rawValues (doc: Document, parts: string[], fallback: unknown[]): unknown[] {
  let cur: unknown[] = [doc]
  for (const p of parts) {
    const next: unknown[] = []
    for (const v of cur) {
      if (Array.isArray(v)) { for (const e of v) if (e !== null && typeof e === 'object') next.push((e as Document)[p]) } else if (v !== null && typeof v === 'object') next.push((v as Document)[p])
    }
    cur = next
  }
  const out = cur.flatMap(v => Array.isArray(v) ? v : [v]).filter(v => v !== undefined)
  return out.length > 0 || fallback.length === 0 ? out : []
}

export function toWriteError (index: number, err: unknown): WriteError {
  const e = asCommandError(err)
  const we: WriteError = { index, code: e.code, errmsg: e.message }
  if (e.extra.keyPattern !== undefined) we.keyPattern = e.extra.keyPattern
  if (e.extra.keyValue !== undefined) we.keyValue = e.extra.keyValue
  return we
}
