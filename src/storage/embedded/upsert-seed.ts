/**
 * The document an upsert inserts when nothing matched, built as MongoDB does: the query's equality
 * fields (plain values, `$eq`, and those inside a top-level `$and`; dotted paths become nested
 * objects), then the update applied on top with $setOnInsert in force. A replacement upsert takes only
 * `_id` from the query. `_id` is generated when neither provides one, and always comes first.
 */
import { ObjectId } from 'bson'
import { cloneDoc } from './doc-utils.js'
import { applyUpdate, isOperatorUpdate } from './update-apply.js'
import { MongoCommandError, type Document } from './store.types.js'

function isPlainObject (v: unknown): v is Document {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && Object.getPrototypeOf(v) === Object.prototype
}

/** Equality fields of a query as a nested document. */
export function upsertSeed (filter: Document | undefined): Document {
  const seed: Document = {}
  const visit = (f: Document): void => {
    for (const [field, v] of Object.entries(f)) {
      if (field === '$and' && Array.isArray(v)) { for (const sub of v) if (isPlainObject(sub)) visit(sub); continue }
      if (field.startsWith('$')) continue
      if (isPlainObject(v) && Object.keys(v).some(k => k.startsWith('$'))) {
        if ('$eq' in v) setPath(seed, field, v.$eq)
        continue
      }
      if (v instanceof RegExp || (v as Document)?._bsontype === 'BSONRegExp') continue
      setPath(seed, field, v)
    }
  }
  if (isPlainObject(filter)) visit(filter)
  return seed
}

function setPath (doc: Document, path: string, value: unknown): void {
  const parts = path.split('.')
  let node = doc
  for (let i = 0; i < parts.length - 1; i++) {
    const next = node[parts[i]]
    if (next === undefined) node = node[parts[i]] = {}
    else if (isPlainObject(next)) node = next
    else throw new MongoCommandError(54, 'NotSingleValueField', `cannot infer query fields to set, path '${path}' is matched twice`)
  }
  const last = parts[parts.length - 1]
  if (last in node) throw new MongoCommandError(54, 'NotSingleValueField', `cannot infer query fields to set, path '${path}' is matched twice`)
  node[last] = cloneDoc(value)
}

/** The new document for an upsert of `update` under `filter`. */
export function buildUpsertDoc (filter: Document | undefined, update: Document | Document[], arrayFilters?: Document[]): Document {
  const seed = upsertSeed(filter)
  let doc: Document
  if (Array.isArray(update)) {
    doc = applyUpdate({ _id: seed._id ?? new ObjectId(), ...withoutId(seed) }, update, { isInsert: true })
  } else if (!isOperatorUpdate(update)) {
    const rep = cloneDoc(update)
    doc = { _id: rep._id ?? seed._id, ...withoutId(rep) }
  } else {
    doc = applyUpdate(seed, update, { isInsert: true, arrayFilters })
  }
  if (doc._id === undefined) doc = { _id: new ObjectId(), ...withoutId(doc) }
  else if (Object.keys(doc)[0] !== '_id') doc = { _id: doc._id, ...withoutId(doc) }
  return doc
}

function withoutId (d: Document): Document {
  const { _id: _, ...rest } = d
  return rest
}
