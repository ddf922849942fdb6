/**
 * Applies one update (operator document, replacement, or pipeline) to one document, producing a new
 * document; the old one is never touched. mingo's updater resolves the paths ($, $[], $[id] with
 * arrayFilters, dotted paths, missing parents) and applies $set/$unset/$rename/$pop/$pull/$pullAll.
 * Operators whose result depends on BSON numeric types or BSON equality ($inc, $mul, $min, $max, $bit,
 * $push, $addToSet) are placed by mingo as `Deferred` markers through $set and computed here, so an
 * Int32 stays an Int32 and ObjectIds compare by value.
 */
import { Timestamp } from 'bson'
import { updateOne } from 'mingo/updater'
import { arith, bitwise, zeroLike } from './bson-arith.js'
import { bsonEquals, compareBson, isNumeric, numValue, typeRank, R_NUMBER } from './bson-order.js'
import { cloneDoc, formatValue, getAt } from './doc-utils.js'
import { asCommandError, normalizeFilter, plainMingoOptions, updateMingoOptions } from './match.js'
import { MongoCommandError, type Document } from './store.types.js'

export interface UpdateContext {
  /** The statement's query, needed by the positional `$` operator. */
  filter?: Document
  arrayFilters?: Document[]
  /** True when building an upsert's new document ($setOnInsert applies, _id may be set). */
  isInsert?: boolean
}

const OPERATORS = new Set(['$set', '$unset', '$inc', '$mul', '$min', '$max', '$rename', '$currentDate',
  '$setOnInsert', '$push', '$addToSet', '$pop', '$pull', '$pullAll', '$bit'])
const DEFERRED = new Set(['$inc', '$mul', '$min', '$max', '$bit', '$push', '$addToSet'])

class Deferred {
  constructor (readonly op: string, readonly arg: unknown) {}
}

const fail = (code: number, codeName: string, msg: string): never => { throw new MongoCommandError(code, codeName, msg) }

export function isOperatorUpdate (u: Document): boolean {
  const first = Object.keys(u)[0]
  return first !== undefined && first.startsWith('$')
}

/** Checks the shape of an update before it touches any document (whole-statement errors). */
export function validateUpdate (u: unknown): void {
  if (Array.isArray(u)) return
  if (u === null || typeof u !== 'object') fail(9, 'FailedToParse', 'Update argument must be either an object or an array')
  const doc = u as Document
  if (!isOperatorUpdate(doc)) {
    for (const k of Object.keys(doc)) {
      if (k.startsWith('$')) fail(52, 'DollarPrefixedFieldName', `The dollar ($) prefixed field '${k}' in '${k}' is not allowed in the context of an update's replacement document. Consider using an aggregation pipeline with $replaceWith.`)
    }
    return
  }
  for (const [op, arg] of Object.entries(doc)) {
    if (!OPERATORS.has(op)) fail(9, 'FailedToParse', `Unknown modifier: ${op}. Expected a valid update modifier or pipeline-style update specified as an array`)
    if (arg === null || typeof arg !== 'object' || Array.isArray(arg) || (arg as Document)._bsontype !== undefined) {
      fail(9, 'FailedToParse', `Modifiers operate on fields but we found type ${typeof arg} instead. For example: {$mod: {<field>: ...}} not {${op}: ${formatValue(arg)}}`)
    }
    for (const [field, v] of Object.entries(arg as Document)) {
      if (field === '') fail(56, 'EmptyFieldName', 'An empty update path is not valid.')
      if ((op === '$inc' || op === '$mul') && !isNumeric(v)) {
        fail(14, 'TypeMismatch', `Cannot ${op === '$inc' ? 'increment' : 'multiply'} with non-numeric argument: {${field}: ${formatValue(v)}}`)
      }
      if (op === '$rename' && typeof v !== 'string') fail(2, 'BadValue', `The 'to' field for $rename must be a string: ${field}: ${formatValue(v)}`)
      if ((op === '$push' || op === '$addToSet') && isEach(v) && !Array.isArray((v as Document).$each)) {
        fail(2, 'BadValue', `The argument to $each in ${op} must be an array but it was of type: ${typeof (v as Document).$each}`)
      }
    }
  }
}

function isEach (v: unknown): boolean {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && '$each' in (v as Document)
}

/** The updated document (a new object). Throws MongoCommandError for per-document failures. */
export function applyUpdate (old: Document, u: Document | Document[], ctx: UpdateContext = {}): Document {
  validateUpdate(u)
  if (Array.isArray(u)) return applyPipeline(old, u)
  if (!isOperatorUpdate(u)) return applyReplacement(old, u, ctx)
  const { modifier, newId } = buildModifier(u, old, ctx)
  const topLevel = isTopLevelOnly(modifier)
  // Stored documents are frozen, so fields the update does not touch can be shared: a top-level update copies
  // one level only (a deep copy of the whole document was most of an update's cost).
  const work = topLevel ? { ...old } : cloneDoc(old) as Document
  const positional = Object.values(modifier).some(m => Object.keys(m as Document).some(k => /\.\$(\.|$)/.test(k)))
  if (positional && ctx.filter == null) fail(2, 'BadValue', 'The positional operator did not find the match needed from the query.')
  if (topLevel) {
    applyTopLevel(work, modifier)
  } else if (Object.keys(modifier).length > 0) {
    try {
      updateOne([work], positional ? normalizeFilter(ctx.filter) as Document : {}, modifier as any, {
        arrayFilters: ctx.arrayFilters?.map(f => normalizeFilter(f) as Document),
        cloneMode: 'none'
      }, updateMingoOptions())
    } catch (err) {
      throw mapUpdateError(err)
    }
  }
  if (topLevel) {
    for (const f of Object.keys((modifier.$set ?? {}) as Document)) {
      const v = work[f]
      if (v instanceof Deferred) work[f] = compute(v, old[f], f, old)
    }
  } else {
    resolveDeferred(work, old, [])
  }
  if (newId !== undefined) return { _id: newId, ...withoutId(work) }
  if (ctx.isInsert !== true && !bsonEquals(work._id, old._id)) {
    fail(66, 'ImmutableField', "Performing an update on the path '_id' would modify the immutable field '_id'")
  }
  return work
}

/** The common update: $set/$unset of top-level fields only (deferred operators included), no mingo paths needed. */
function isTopLevelOnly (modifier: Document): boolean {
  for (const [op, fields] of Object.entries(modifier)) {
    if (op !== '$set' && op !== '$unset') return false
    for (const f of Object.keys(fields as Document)) if (f.includes('.') || f.startsWith('$') || f === '_id') return false
  }
  return true
}

/** Applies a top-level-only modifier (see isTopLevelOnly) to `work`. */
function applyTopLevel (work: Document, modifier: Document): void {
  const set = (modifier.$set ?? {}) as Document
  for (const f of Object.keys((modifier.$unset ?? {}) as Document)) {
    if (f in set) fail(40, 'ConflictingUpdateOperators', `Updating the path '${f}' would create a conflict at '${f}'`)
    delete work[f]
  }
  for (const [f, v] of Object.entries(set)) work[f] = v
}

function withoutId (d: Document): Document {
  const { _id: _, ...rest } = d
  return rest
}

function applyReplacement (old: Document, u: Document, ctx: UpdateContext): Document {
  const rep = cloneDoc(u)
  if ('_id' in rep && old._id !== undefined && !ctx.isInsert && !bsonEquals(rep._id, old._id)) {
    fail(66, 'ImmutableField', `After applying the update, the (immutable) field '_id' was found to have been altered to _id: ${formatValue(rep._id)}`)
  }
  const id = '_id' in rep ? rep._id : old._id
  return id === undefined ? rep : { _id: id, ...withoutId(rep) }
}

function applyPipeline (old: Document, stages: Document[]): Document {
  const docs = [cloneDoc(old) as Document]
  try {
    updateOne(docs, {}, stages as any, { cloneMode: 'none' }, plainMingoOptions())
  } catch (err) {
    throw mapUpdateError(err)
  }
  const out = docs[0]
  if (!bsonEquals(out._id, old._id)) fail(66, 'ImmutableField', "After applying the update, the (immutable) field '_id' was found to have been altered")
  return out
}

/** Translate the update into a mingo modifier: deferred ops and $currentDate go through $set. */
function buildModifier (u: Document, old: Document, ctx: UpdateContext): { modifier: Document; newId: unknown } {
  const set: Document = {}
  const modifier: Document = {}
  let newId: unknown
  const put = (field: string, v: unknown): void => {
    if (field in set) fail(40, 'ConflictingUpdateOperators', `Updating the path '${field}' would create a conflict at '${field}'`)
    set[field] = v
  }
  for (const [op, arg] of Object.entries(u)) {
    const fields = arg as Document
    if (op === '$setOnInsert' && ctx.isInsert !== true) continue
    if (op === '$set' || op === '$setOnInsert') {
      for (const [f, v] of Object.entries(fields)) {
        if (f === '_id') {
          if (ctx.isInsert === true) newId = cloneDoc(v)
          else if (!bsonEquals(v, old._id)) fail(66, 'ImmutableField', `Performing an update on the path '_id' would modify the immutable field '_id'`)
          continue
        }
        put(f, cloneDoc(v))
      }
    } else if (op === '$currentDate') {
      for (const [f, v] of Object.entries(fields)) {
        const ts = v !== null && typeof v === 'object' && (v as Document).$type === 'timestamp'
        put(f, ts ? Timestamp.fromNumber(Math.floor(Date.now() / 1000) * 2 ** 32) : new Date())
      }
    } else if (DEFERRED.has(op)) {
      for (const [f, v] of Object.entries(fields)) put(f, new Deferred(op, cloneDoc(v)))
    } else if (op === '$pull') {
      modifier[op] = Object.fromEntries(Object.entries(fields).map(([f, v]) => [f, normalizeFilter(v)]))
    } else if (op === '$pop') {
      // mingo wants a JS 1 or -1; from the wire it is an Int32
      modifier[op] = Object.fromEntries(Object.entries(fields).map(([f, v]) => [f, isNumeric(v) ? Number(numValue(v)) : v]))
    } else {
      modifier[op] = fields
    }
  }
  if (Object.keys(set).length > 0) modifier.$set = set
  return { modifier, newId }
}

/** Replace every Deferred marker with its computed value, reading the old value at the same path. */
function resolveDeferred (node: unknown, old: Document, path: string[]): void {
  if (node === null || typeof node !== 'object') return
  const o = node as Document
  for (const k of Object.keys(o)) {
    const v = o[k]
    if (v instanceof Deferred) {
      const p = [...path, k]
      o[k] = compute(v, getAt(old, p), p.join('.'), old)
    } else if (v !== null && typeof v === 'object' && (Array.isArray(v) || Object.getPrototypeOf(v) === Object.prototype)) {
      resolveDeferred(v, old, [...path, k])
    }
  }
}

function compute (d: Deferred, cur: unknown, field: string, doc: Document): unknown {
  const idText = `{_id: ${formatValue(doc._id)}}`
  switch (d.op) {
    case '$inc':
    case '$mul': {
      if (cur === undefined) return d.op === '$inc' ? d.arg : zeroLike(d.arg)
      if (typeRank(cur) !== R_NUMBER) {
        fail(14, 'TypeMismatch', `Cannot apply ${d.op} to a value of non-numeric type. ${idText} has the field '${field}' of non-numeric type ${typeof cur}`)
      }
      return arith(d.op === '$inc' ? 'add' : 'mul', cur, d.arg)
    }
    case '$min': return cur === undefined || compareBson(d.arg, cur) < 0 ? d.arg : cur
    case '$max': return cur === undefined || compareBson(d.arg, cur) > 0 ? d.arg : cur
    case '$bit': {
      let v: unknown = cur === undefined ? 0 : cur
      for (const [op, operand] of Object.entries(d.arg as Document)) {
        const r = bitwise(op, v, operand)
        if (r === undefined) fail(2, 'BadValue', `The $bit modifier only supports 'and', 'or', and 'xor' on int or long values, not ${op}`)
        v = r
      }
      return v
    }
    case '$push': return push(cur, d.arg, field, idText)
    case '$addToSet': {
      if (cur !== undefined && !Array.isArray(cur)) fail(2, 'BadValue', `Cannot apply $addToSet to non-array field. Field named '${field}' has non-array type ${typeof cur}`)
      const out = Array.isArray(cur) ? [...cur] : []
      const vals = isEach(d.arg) ? (d.arg as Document).$each as unknown[] : [d.arg]
      for (const v of vals) if (!out.some(x => bsonEquals(x, v))) out.push(v)
      return out
    }
  }
  return cur
}

function push (cur: unknown, arg: unknown, field: string, idText: string): unknown[] {
  if (cur !== undefined && !Array.isArray(cur)) fail(2, 'BadValue', `The field '${field}' must be an array but is of type ${typeof cur} in document ${idText}`)
  const out = Array.isArray(cur) ? [...cur] : []
  if (!isEach(arg)) { out.push(arg); return out }
  const spec = arg as Document
  const each = spec.$each as unknown[]
  if (spec.$position !== undefined) {
    let pos = Number(spec.$position?.valueOf?.() ?? spec.$position)
    if (pos < 0) pos = Math.max(0, out.length + pos)
    out.splice(Math.min(pos, out.length), 0, ...each)
  } else out.push(...each)
  if (spec.$sort !== undefined) sortArray(out, spec.$sort)
  if (spec.$slice !== undefined) {
    const n = Number(spec.$slice?.valueOf?.() ?? spec.$slice)
    return n >= 0 ? out.slice(0, n) : out.slice(Math.max(0, out.length + n))
  }
  return out
}

function sortArray (arr: unknown[], spec: unknown): void {
  if (spec !== null && typeof spec === 'object' && (spec as Document)._bsontype === undefined) {
    const keys = Object.entries(spec as Document).map(([k, v]) => [k.split('.'), Number(v?.valueOf?.() ?? v)] as const)
    arr.sort((a, b) => {
      for (const [path, dir] of keys) {
        const c = compareBson(getAt(a, path), getAt(b, path))
        if (c !== 0) return dir < 0 ? -c : c
      }
      return 0
    })
  } else {
    const dir = Number((spec as any)?.valueOf?.() ?? spec)
    arr.sort((a, b) => dir < 0 ? compareBson(b, a) : compareBson(a, b))
  }
}

function mapUpdateError (err: unknown): MongoCommandError {
  if (err instanceof MongoCommandError) return err
  const msg = err instanceof Error ? err.message : String(err)
  if (/immutable field/i.test(msg)) return new MongoCommandError(66, 'ImmutableField', msg)
  if (/conflict/i.test(msg)) return new MongoCommandError(40, 'ConflictingUpdateOperators', msg)
  if (/Unknown (update|pipeline) operator/i.test(msg)) return new MongoCommandError(9, 'FailedToParse', msg)
  if (/non-numeric/i.test(msg)) return new MongoCommandError(14, 'TypeMismatch', msg)
  if (/array filter|identifier|positional/i.test(msg)) return new MongoCommandError(2, 'BadValue', msg)
  return asCommandError(err)
}
