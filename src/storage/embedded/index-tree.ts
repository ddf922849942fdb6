/**
 * One index of a collection: a B+tree (sorted-btree) whose keys are the indexed values encoded as
 * order-preserving strings (key-encoding.ts) plus the record id, so inserts and range walks are
 * O(log n) string comparisons and walks come out in index order. Values point at the record holder,
 * whose `doc` is swapped on update.
 */
import sortedBtree from 'sorted-btree'
import { keyValue } from './bson-order.js'
import { boundPosition, complement, encodeRid, encodeValue, successor, type Position } from './key-encoding.js'
import { compileFilter } from './match.js'
import { MongoCommandError, type Document, type IndexSpec } from './store.types.js'

// sorted-btree is CommonJS: under NodeNext its default import is the module object
const BTree = sortedBtree.default
type Tree = InstanceType<typeof BTree<string, Rec>>

/** A stored document and its stable record id (kept across updates). */
export interface Rec { rid: number; doc: Document }

/** An encoded key without its record id suffix. */
export type IndexKey = string

/** Bounds for one index field, in value space. */
export interface FieldInterval { lo: unknown; loInc: boolean; hi: unknown; hiInc: boolean }

/** Thrown when a document cannot be indexed (e.g. two array fields in a compound index). */
export class IndexKeyError extends Error {
  constructor (readonly code: number, readonly codeName: string, message: string) { super(message) }
}

function isDigits (s: string): boolean { return s.length > 0 && /^\d+$/.test(s) }

/** Values a dotted path yields for indexing: arrays fan out (multikey), missing is null. */
export function pathValues (doc: unknown, parts: string[]): { values: unknown[]; multi: boolean } {
  const st: PathState = { out: [], multi: false }
  collect(st, parts, doc, 0)
  const vals = st.out
  for (let i = 0; i < vals.length; i++) vals[i] = vals[i] === undefined ? null : keyValue(vals[i])
  return { values: vals, multi: st.multi }
}

interface PathState { out: unknown[]; multi: boolean }

// a plain recursive function rather than a closure: this runs for every index on every write
function collect (st: PathState, parts: string[], v: unknown, i: number): void {
  if (i === parts.length) {
    if (Array.isArray(v)) {
      st.multi = true
      if (v.length === 0) st.out.push(null)
      for (const e of v) st.out.push(e)
    } else st.out.push(v)
    return
  }
  if (Array.isArray(v)) {
    if (isDigits(parts[i])) return collect(st, parts, v[Number(parts[i])], i + 1)
    st.multi = true
    const before = st.out.length
    for (const e of v) if (e !== null && typeof e === 'object' && !Array.isArray(e)) collect(st, parts, (e as Document)[parts[i]], i + 1)
    if (st.out.length === before) st.out.push(null)
    return
  }
  if (v !== null && typeof v === 'object' && (v as Document)._bsontype === undefined) collect(st, parts, (v as Document)[parts[i]], i + 1)
  else st.out.push(null)
}

export class IndexTree {
  readonly fields: string[]
  readonly dirs: number[]
  private readonly parts: string[][]
  readonly tree: Tree
  readonly unique: boolean
  readonly sparse: boolean
  private readonly simple: boolean
  private readonly partial?: (d: unknown) => boolean
  /** True once any document produced several keys; such an index cannot provide sort order. */
  multikey = false

  constructor (readonly spec: IndexSpec) {
    this.fields = Object.keys(spec.key)
    this.dirs = this.fields.map(f => {
      const d = spec.key[f]
      return (typeof d === 'number' ? d : Number((d as any)?.valueOf?.() ?? 1)) < 0 ? -1 : 1
    })
    this.parts = this.fields.map(f => f.split('.'))
    this.unique = spec.unique === true || spec.name === '_id_'
    this.simple = spec.partialFilterExpression == null && spec.sparse !== true && this.fields.every(f => !f.includes('.'))
    this.sparse = spec.sparse === true
    if (spec.partialFilterExpression != null) this.partial = compileFilter(spec.partialFilterExpression)
    this.tree = new BTree<string, Rec>(undefined, (a: string, b: string) => a < b ? -1 : a > b ? 1 : 0)
  }

  get name (): string { return this.spec.name }
  get size (): number { return this.tree.size }

  private encodeField (i: number, v: unknown): string {
    const e = encodeValue(v)
    return this.dirs[i] < 0 ? complement(e) : e
  }

  /** Encoded index keys (without record id) for a document; [] when the document is not indexed. */
  keysFor (doc: Document): IndexKey[] {
    if (this.simple) {
      // fast path: top-level fields, no arrays: exactly one key
      let key = ''
      let i = 0
      for (; i < this.fields.length; i++) {
        const v = doc[this.fields[i]]
        if (Array.isArray(v)) break
        key += this.encodeField(i, v)
      }
      if (i === this.fields.length) return [key]
    }
    if (this.partial !== undefined && !this.partial(doc)) return []
    // sparse: skip documents that have none of the fields (an explicit null still counts as present)
    if (this.sparse && this.parts.every(p => !hasPath(doc, p))) return []
    const per = this.parts.map(p => pathValues(doc, p))
    if (per.filter(p => p.multi).length > 1) {
      throw new IndexKeyError(171, 'CannotIndexParallelArrays', `cannot index parallel arrays [${this.fields.join('] [')}]`)
    }
    let keys: string[] = ['']
    per.forEach((p, i) => {
      const encoded = [...new Set(p.values.map(v => this.encodeField(i, v)))]
      keys = encoded.length === 1 ? keys.map(k => k + encoded[0]) : keys.flatMap(k => encoded.map(e => k + e))
    })
    return keys
  }

  /** The indexed values of a document that produce `key` (for error messages). */
  valuesFor (doc: Document, key: IndexKey): unknown[] {
    const per = this.parts.map(p => pathValues(doc, p).values)
    const walk = (i: number, acc: unknown[], enc: string): unknown[] | undefined => {
      if (i === per.length) return enc === key ? acc : undefined
      for (const v of per[i]) {
        const r = walk(i + 1, [...acc, v], enc + this.encodeField(i, v))
        if (r !== undefined) return r
      }
      return undefined
    }
    return walk(0, [], '') ?? per.map(v => v[0])
  }

  // a unique index holds each key once, so its tree key needs no record id (one descent per check+insert)
  private treeKey (k: IndexKey, rid: number): string {
    return this.unique ? k : k + encodeRid(rid)
  }

  private noteMultikey (rec: Rec, keys: IndexKey[]): void {
    if (!this.multikey && (keys.length > 1 || this.parts.some(p => isMultiAt(rec.doc, p)))) this.multikey = true
  }

  /** Add entries unconditionally (non-unique indexes, and replay). */
  add (rec: Rec, keys: IndexKey[] = this.keysFor(rec.doc)): void {
    this.noteMultikey(rec, keys)
    for (const k of keys) this.tree.set(this.treeKey(k, rec.rid), rec)
  }

  /**
   * Add entries unless a key is held by another record; then nothing is added and that key is
   * returned. For unique indexes this is the check and the insert in one tree descent.
   */
  tryAdd (rec: Rec, keys: IndexKey[]): IndexKey | undefined {
    if (!this.unique) { this.add(rec, keys); return undefined }
    for (let i = 0; i < keys.length; i++) {
      if (this.tree.setIfNotPresent(keys[i], rec)) continue
      if (this.tree.get(keys[i])?.rid === rec.rid) continue
      for (let j = 0; j < i; j++) this.tree.delete(keys[j])
      return keys[i]
    }
    this.noteMultikey(rec, keys)
    return undefined
  }

  remove (rec: Rec, keys: IndexKey[] = this.keysFor(rec.doc)): void {
    for (const k of keys) {
      // never drop another record's entry from a unique index (replay may have overwritten it)
      if (this.unique && this.tree.get(k) !== rec) continue
      this.tree.delete(this.treeKey(k, rec.rid))
    }
  }

  /** The record whose key is exactly this one-field value, on a unique index (the `_id_` lookup). */
  getOne (value: unknown): Rec | undefined {
    return this.tree.get(this.encodeField(0, value))
  }

  /**
   * Walk the entries within per-field intervals (prefix fields; the rest unbounded), in index order
   * (dir 1) or reverse (dir -1). `visit` returns false to stop early.
   */
  scan (intervals: FieldInterval[], dir: 1 | -1, visit: (rec: Rec) => boolean): void {
    const [low, high] = this.treeBounds(intervals)
    if (high !== undefined && low >= high) return
    if (dir === 1) {
      for (const [k, rec] of this.tree.entries(low)) {
        if ((high !== undefined && k >= high) || !visit(rec)) return
      }
    } else {
      for (const [k, rec] of this.tree.entriesReversed(high, undefined, true)) {
        if (k < low || !visit(rec)) return
      }
    }
  }

  /**
   * The same walk as a lazy iterator of [key, record], each key without the encodings of its first
   * `cut` fields (points shared by the whole walk), so keys of walks over different points compare in
   * the order of the remaining fields (the merge of per-point walks).
   */
  * entries (intervals: FieldInterval[], dir: 1 | -1, cut: number): Generator<[string, Rec]> {
    const [low, high] = this.treeBounds(intervals)
    if (high !== undefined && low >= high) return
    let skip = 0
    for (let i = 0; i < cut; i++) skip += this.encodeField(i, intervals[i].lo).length
    if (dir === 1) {
      for (const [k, rec] of this.tree.entries(low)) {
        if (high !== undefined && k >= high) return
        yield [k.slice(skip), rec]
      }
    } else {
      for (const [k, rec] of this.tree.entriesReversed(high, undefined, true)) {
        if (k < low) return
        yield [k.slice(skip), rec]
      }
    }
  }

  /**
   * The walk as a half-open string range [low, high) in tree order (high undefined: to the end).
   * All but the last interval are points; the last may be a range; desc fields flip.
   */
  private treeBounds (intervals: FieldInterval[]): [string, string | undefined] {
    let prefix = ''
    const last = intervals.length - 1
    for (let i = 0; i < last; i++) prefix += this.encodeField(i, intervals[i].lo)
    if (last < 0) return ['', undefined]
    const iv = intervals[last]
    const desc = this.dirs[last] < 0
    let lo = boundPosition(iv.lo, iv.loInc ? -1 : 1)
    let hi = boundPosition(iv.hi, iv.hiInc ? 1 : -1)
    if (desc) [lo, hi] = [flip(hi), flip(lo)]
    const toKey = (p: Position): string | undefined => p.side < 0 ? prefix + p.prefix : successor(prefix + p.prefix)
    return [toKey(lo) ?? '\uffff'.repeat(64), toKey(hi)]
  }
}

function flip (p: Position): Position {
  return { prefix: complement(p.prefix), side: p.side < 0 ? 1 : -1 }
}

function hasPath (doc: unknown, parts: string[]): boolean {
  let v: unknown = doc
  for (const p of parts) {
    if (Array.isArray(v)) return true
    if (v === null || typeof v !== 'object' || !(p in (v as Document))) return false
    v = (v as Document)[p]
  }
  return true
}

function isMultiAt (doc: unknown, parts: string[]): boolean {
  let v: unknown = doc
  for (const p of parts) {
    if (Array.isArray(v)) return true
    if (v === null || typeof v !== 'object') return false
    v = (v as Document)[p]
  }
  return Array.isArray(v)
}

/** The key-pattern direction check createIndexes applies. */
export function validateKeyPattern (key: Document): void {
  const fields = Object.keys(key ?? {})
  if (fields.length === 0) throw new MongoCommandError(67, 'CannotCreateIndex', 'Index keys cannot be empty.')
  for (const f of fields) {
    const v = key[f]
    if (typeof v === 'string') continue // 'text', 'hashed', '2dsphere': stored, used as ascending
    const n = Number((v as any)?.valueOf?.() ?? v)
    if (!Number.isFinite(n) || n === 0) throw new MongoCommandError(67, 'CannotCreateIndex', `Values in the index key pattern can't be 0: ${f}`)
  }
}
