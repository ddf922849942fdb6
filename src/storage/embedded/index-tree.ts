/**
 * One index of a collection: a B+tree (sorted-btree) keyed by the indexed values in BSON order plus
 * the record id as a tiebreaker, so inserts and range walks are O(log n) and walks come out in index
 * order. Values point at the record holder, whose `doc` is swapped on update.
 */
import sortedBtree from 'sorted-btree'
import { compareBson, keyValue, MAX_BOUND, MIN_BOUND } from './bson-order.js'
import { compileFilter } from './match.js'
import { MongoCommandError, type Document, type IndexSpec } from './store.types.js'

// sorted-btree is CommonJS: under NodeNext its default import is the module object
const BTree = sortedBtree.default
type Tree = InstanceType<typeof BTree<IndexKey, Rec>>

/** A stored document and its stable record id (kept across updates). */
export interface Rec { rid: number; doc: Document }

export type IndexKey = unknown[]

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
  private readonly pair: [IndexKey, Rec] = [[], { rid: 0, doc: {} }]
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
    const n = this.fields.length
    const dirs = this.dirs
    const d0 = dirs[0]
    this.tree = new BTree<IndexKey, Rec>(undefined, n === 1
      ? (a: IndexKey, b: IndexKey) => {
          const c = compareBson(a[0], b[0])
          if (c !== 0) return d0 < 0 ? -c : c
          return (a[1] as number) < (b[1] as number) ? -1 : (a[1] as number) > (b[1] as number) ? 1 : 0
        }
      : (a: IndexKey, b: IndexKey) => {
          for (let i = 0; i < n; i++) {
            const c = compareBson(a[i], b[i])
            if (c !== 0) return dirs[i] < 0 ? -c : c
          }
          const x = a[n] as number
          const y = b[n] as number
          return x < y ? -1 : x > y ? 1 : 0
        })
  }

  get name (): string { return this.spec.name }
  get size (): number { return this.tree.size }

  /**
   * Index keys for a document ([] when it is not indexed). Each key has a trailing record-id slot that
   * add/remove/findConflict fill in, so the same array becomes the tree key without copying.
   */
  keysFor (doc: Document): IndexKey[] {
    if (this.simple) {
      // fast path: top-level fields, no arrays: exactly one key
      const key: unknown[] = new Array(this.fields.length + 1)
      key[this.fields.length] = 0
      let i = 0
      for (; i < this.fields.length; i++) {
        const v = doc[this.fields[i]]
        if (Array.isArray(v)) break
        key[i] = v === undefined ? null : keyValue(v)
      }
      if (i === this.fields.length) return [key]
    }
    if (this.partial !== undefined && !this.partial(doc)) return []
    const per = this.parts.map(p => pathValues(doc, p))
    // sparse: skip documents that have none of the fields (an explicit null still counts as present)
    if (this.sparse && this.parts.every(p => !hasPath(doc, p))) return []
    if (per.filter(p => p.multi).length > 1) {
      throw new IndexKeyError(171, 'CannotIndexParallelArrays', `cannot index parallel arrays [${this.fields.join('] [')}]`)
    }
    let keys: IndexKey[] = [[]]
    for (const p of per) {
      const vals = dedupe(p.values)
      keys = vals.length === 1 ? keys.map(k => [...k, vals[0]]) : keys.flatMap(k => vals.map(v => [...k, v]))
    }
    for (const k of keys) k.push(0) // the record id slot
    return keys
  }

  add (rec: Rec, keys: IndexKey[] = this.keysFor(rec.doc)): void {
    if (!this.multikey && (keys.length > 1 || (!this.simple && this.parts.some(p => isMultiAt(rec.doc, p))) ||
      (this.simple && this.fields.some(f => Array.isArray(rec.doc[f]))))) this.multikey = true
    for (const k of keys) this.tree.set(setRid(k, rec.rid), rec)
  }

  remove (rec: Rec, keys: IndexKey[] = this.keysFor(rec.doc)): void {
    for (const k of keys) this.tree.delete(setRid(k, rec.rid))
  }

  /** For a unique index: a record other than `selfRid` holding one of these keys. */
  findConflict (keys: IndexKey[], selfRid: number): { rec: Rec; key: IndexKey } | undefined {
    for (const k of keys) {
      let pair = this.tree.getPairOrNextHigher(setRid(k, -Infinity), this.pair)
      while (pair !== undefined && this.samePrefix(pair[0], k)) {
        if (pair[1].rid !== selfRid) return { rec: pair[1], key: k }
        pair = this.tree.nextHigherPair(pair[0], this.pair)
      }
    }
    return undefined
  }

  private samePrefix (a: IndexKey, b: IndexKey): boolean {
    for (let i = 0; i < this.fields.length; i++) if (compareBson(a[i], b[i]) !== 0) return false
    return true
  }

  /**
   * Walk the entries within per-field intervals (prefix fields; the rest unbounded), in index order
   * (dir 1) or reverse (dir -1). `visit` returns false to stop early.
   */
  scan (intervals: FieldInterval[], dir: 1 | -1, visit: (rec: Rec) => boolean): void {
    const [low, high] = this.treeBounds(intervals)
    const cmp = (this.tree as any)._compare as (a: IndexKey, b: IndexKey) => number
    if (dir === 1) {
      for (const [k, rec] of this.tree.entries(low)) {
        if (cmp(k, high) > 0 || !visit(rec)) return
      }
    } else {
      for (const [k, rec] of this.tree.entriesReversed(high)) {
        if (cmp(k, low) < 0 || !visit(rec)) return
      }
    }
  }

  /** Tree-order low and high keys for the intervals, padding the unconstrained fields with sentinels. */
  private treeBounds (intervals: FieldInterval[]): [IndexKey, IndexKey] {
    const low: unknown[] = []
    const high: unknown[] = []
    let lowInc = true
    let highInc = true
    intervals.forEach((iv, i) => {
      const desc = this.dirs[i] < 0
      low.push(desc ? iv.hi : iv.lo)
      high.push(desc ? iv.lo : iv.hi)
      lowInc = desc ? iv.hiInc : iv.loInc
      highInc = desc ? iv.loInc : iv.hiInc
    })
    for (let i = intervals.length; i < this.fields.length; i++) {
      const desc = this.dirs[i] < 0
      const treeMin = desc ? MAX_BOUND : MIN_BOUND
      const treeMax = desc ? MIN_BOUND : MAX_BOUND
      low.push(lowInc ? treeMin : treeMax)
      high.push(highInc ? treeMax : treeMin)
    }
    low.push(lowInc ? -Infinity : Infinity)
    high.push(highInc ? Infinity : -Infinity)
    return [low, high]
  }
}

function setRid (k: IndexKey, rid: number): IndexKey {
  k[k.length - 1] = rid
  return k
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

function dedupe (vals: unknown[]): unknown[] {
  if (vals.length < 2) return vals
  const sorted = [...vals].sort(compareBson)
  return sorted.filter((v, i) => i === 0 || compareBson(v, sorted[i - 1]) !== 0)
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
