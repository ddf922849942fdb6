/**
 * Catalog helpers for the store: namespace checks, index spec normalisation and conflict rules
 * (MongoDB's 85 IndexOptionsConflict / 86 IndexKeySpecsConflict), and the compaction snapshot.
 */
import { compareBson } from './bson-order.js'
import type { Collection } from './collection.js'
import { cloneDoc } from './doc-utils.js'
import { MongoCommandError, type IndexSpec, type JournalRecord } from './store.types.js'

export function checkNamespace (db: string, coll: string): void {
  if (typeof db !== 'string' || db === '' || /[/\\. "$\0]/.test(db)) throw new MongoCommandError(73, 'InvalidNamespace', `Invalid database name: '${String(db)}'`)
  if (typeof coll !== 'string' || coll === '' || coll.includes('\0') || coll.startsWith('.') || (coll.includes('$') && !coll.startsWith('system.'))) {
    throw new MongoCommandError(73, 'InvalidNamespace', `Invalid collection name: ${String(coll)}`)
  }
}

/** A default index name as MongoDB builds it: `a_1_b_-1`. */
export function defaultIndexName (key: Record<string, unknown>): string {
  return Object.entries(key).map(([k, v]) => `${k}_${String((v as any)?.valueOf?.() ?? v)}`).join('_')
}

/** The spec as kept and echoed back: without `v`/`ns`, with a name. */
export function specFromRequest (s: IndexSpec): IndexSpec {
  if (s === null || typeof s !== 'object' || s.key === null || typeof s.key !== 'object') {
    throw new MongoCommandError(9, 'FailedToParse', "The 'key' field is a required property of an index specification")
  }
  const { v: _v, ns: _ns, ...rest } = cloneDoc(s)
  if (rest.name === undefined) rest.name = defaultIndexName(rest.key)
  // MongoDB stores these flags as booleans whatever truthy value was sent
  for (const flag of ['unique', 'sparse', 'hidden']) {
    if (rest[flag] !== undefined) rest[flag] = Boolean((rest[flag] as any)?.valueOf?.() ?? rest[flag])
  }
  if (typeof rest.name !== 'string' || rest.name === '') throw new MongoCommandError(67, 'CannotCreateIndex', 'The index name must be a non-empty string')
  return rest as IndexSpec
}

const IGNORED_OPTIONS = new Set(['key', 'name', 'background', 'v', 'ns'])

function sameKey (a: IndexSpec, b: IndexSpec): boolean {
  const ka = Object.keys(a.key)
  const kb = Object.keys(b.key)
  return ka.length === kb.length && ka.every((k, i) => k === kb[i] && compareBson(a.key[k], b.key[k]) === 0)
}

function sameOptions (a: IndexSpec, b: IndexSpec): boolean {
  const opts = new Set([...Object.keys(a), ...Object.keys(b)].filter(k => !IGNORED_OPTIONS.has(k)))
  for (const k of opts) {
    const x = a[k] ?? (k === 'unique' || k === 'sparse' ? false : undefined)
    const y = b[k] ?? (k === 'unique' || k === 'sparse' ? false : undefined)
    if (compareBson(x, y) !== 0) return false
  }
  return true
}

/** true when an identical index exists (nothing to do); throws on a clash; false when new. */
export function indexConflict (existing: IndexSpec[], s: IndexSpec): boolean {
  for (const e of existing) {
    if (e.name === s.name) {
      if (!sameKey(e, s)) {
        throw new MongoCommandError(86, 'IndexKeySpecsConflict', `An existing index has the same name as the requested index. When index names are not specified, they are auto generated and can cause conflicts. Please refer to our documentation. Requested index: ${JSON.stringify(s)}, existing index: ${JSON.stringify(e)}`)
      }
      if (e.name === '_id_') return true
      if (!sameOptions(e, s)) throw new MongoCommandError(85, 'IndexOptionsConflict', `An equivalent index already exists with the same name but different options. Requested index: ${JSON.stringify(s)}, existing index: ${JSON.stringify(e)}`)
      return true
    }
    if (sameKey(e, s) && sameOptions(e, s)) {
      throw new MongoCommandError(85, 'IndexOptionsConflict', `Index already exists with a different name: ${e.name}`)
    }
  }
  return false
}

/**
 * The whole state as journal records, captured now: collection options and index specs are copied
 * and the document lists taken (documents are immutable), so later writes do not show through.
 */
export function catalogSnapshot (dbs: Map<string, Map<string, Collection>>): Iterable<JournalRecord> {
  const parts: Array<{ head: JournalRecord[]; db: string; coll: string; docs: unknown[] }> = []
  for (const [db, colls] of dbs) {
    for (const c of colls.values()) {
      const head: JournalRecord[] = [{ t: 'createColl', db, coll: c.name, options: cloneDoc(c.options) }]
      for (const ix of c.indexes.values()) {
        if (ix.name !== '_id_') head.push({ t: 'createIndex', db, coll: c.name, spec: cloneDoc(ix.spec) })
      }
      parts.push({ head, db, coll: c.name, docs: [...c.records.values()].map(r => r.doc) })
    }
  }
  return {
    * [Symbol.iterator] () {
      for (const p of parts) {
        yield * p.head
        for (const doc of p.docs) yield { t: 'put', db: p.db, coll: p.coll, doc } as JournalRecord
      }
    }
  }
}
