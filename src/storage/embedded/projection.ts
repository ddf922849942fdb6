/**
 * find/findAndModify projections: inclusion or exclusion of dotted paths (through arrays of
 * subdocuments), `_id` included unless excluded, plus `$slice`, `$elemMatch` and the positional
 * `field.$`. Output documents are new objects; unchanged values are shared with the (frozen) stored
 * document. Anything else (aggregation expressions) goes through mingo's $project.
 */
import { Aggregator } from 'mingo/aggregator'
import { compileFilter, mingoOptions } from './match.js'
import { MongoCommandError, type Document } from './store.types.js'
import { typeRank, numValue, R_NUMBER } from './bson-order.js'

type Node = { [k: string]: Node | Leaf }
type Leaf = { kind: 'keep' } | { kind: 'slice'; skip: number; limit?: number } | { kind: 'elemMatch'; test: (e: unknown) => boolean } | { kind: 'positional' }

const isPlain = (v: unknown): v is Document =>
  v !== null && typeof v === 'object' && !Array.isArray(v) && Object.getPrototypeOf(v) === Object.prototype

function isLeaf (n: Node | Leaf | undefined): n is Leaf { return n !== undefined && typeof (n as Leaf).kind === 'string' }

function truthyFlag (v: unknown): boolean | undefined {
  if (typeof v === 'boolean') return v
  if (typeRank(v) === R_NUMBER) return Number(numValue(v)) !== 0
  return undefined
}

/** Compile a projection to a function, or undefined for "return documents whole". */
export function compileProjection (projection: Document | undefined, filter?: Document): ((doc: Document) => Document) | undefined {
  if (projection == null || Object.keys(projection).length === 0) return undefined
  const tree: Node = {}
  let mode: 'include' | 'exclude' | undefined
  let idFlag: boolean | undefined
  const setMode = (m: 'include' | 'exclude', field: string): void => {
    if (mode !== undefined && mode !== m) {
      throw new MongoCommandError(31254, 'Location31254', `Cannot do ${m === 'exclude' ? 'exclusion' : 'inclusion'} on field ${field} in ${mode === 'include' ? 'inclusion' : 'exclusion'} projection`)
    }
    mode = m
  }
  for (const [field, v] of Object.entries(projection)) {
    const flag = truthyFlag(v)
    if (field === '_id' && flag !== undefined) { idFlag = flag; continue }
    if (field.endsWith('.$')) {
      setMode('include', field)
      put(tree, field.slice(0, -2), { kind: 'positional' })
      continue
    }
    if (flag !== undefined) {
      setMode(flag ? 'include' : 'exclude', field)
      put(tree, field, { kind: 'keep' })
      continue
    }
    if (isPlain(v) && '$slice' in v) {
      put(tree, field, sliceLeaf(v.$slice))
      continue
    }
    if (isPlain(v) && '$elemMatch' in v) {
      setMode('include', field)
      const q = compileFilter({ e: { $elemMatch: v.$elemMatch } })
      put(tree, field, { kind: 'elemMatch', test: (e) => q({ e: [e] }) })
      continue
    }
    if (isPlain(v) && '$meta' in v) continue
    return viaMingo(projection)
  }
  const positional = (field: string, arr: unknown[]): unknown[] => positionalMatch(field, arr, filter)
  const includeId = idFlag !== false
  if (mode === 'include' || (mode === undefined && idFlag === true && Object.keys(tree).length === 0)) {
    return (doc) => {
      const out = include(doc, tree, '', positional)
      return includeId && doc._id !== undefined ? { _id: doc._id, ...out } : out
    }
  }
  return (doc) => {
    const out = exclude(doc, tree)
    if (!includeId) delete out._id
    return out
  }
}

function sliceLeaf (s: unknown): Leaf {
  if (Array.isArray(s)) {
    const [skip, limit] = s.map(x => Number(numValue(x)))
    if (!(limit > 0)) throw new MongoCommandError(28724, 'Location28724', 'First argument to $slice must be an array, and the limit must be positive')
    return { kind: 'slice', skip, limit }
  }
  const n = Number(numValue(s))
  return n < 0 ? { kind: 'slice', skip: n } : { kind: 'slice', skip: 0, limit: n }
}

function put (tree: Node, field: string, leaf: Leaf): void {
  const parts = field.split('.')
  let node = tree
  for (let i = 0; i < parts.length - 1; i++) {
    const next = node[parts[i]]
    if (isLeaf(next)) throw new MongoCommandError(31250, 'Location31250', `Path collision at ${field}`)
    node = (node[parts[i]] ??= {}) as Node
  }
  const last = parts[parts.length - 1]
  if (node[last] !== undefined) throw new MongoCommandError(31250, 'Location31250', `Path collision at ${field}`)
  node[last] = leaf
}

function applyLeaf (leaf: Leaf, v: unknown, path: string, positional: (f: string, a: unknown[]) => unknown[]): unknown {
  if (leaf.kind === 'keep' || !Array.isArray(v)) return leaf.kind === 'keep' || leaf.kind === 'slice' ? v : undefined
  if (leaf.kind === 'slice') {
    const start = leaf.skip < 0 ? Math.max(0, v.length + leaf.skip) : leaf.skip
    return leaf.limit === undefined ? v.slice(start) : v.slice(start, start + leaf.limit)
  }
  if (leaf.kind === 'elemMatch') {
    const hit = v.find(leaf.test)
    return hit === undefined ? undefined : [hit]
  }
  return positional(path, v)
}

function include (doc: Document, tree: Node, prefix: string, positional: (f: string, a: unknown[]) => unknown[]): Document {
  const out: Document = {}
  for (const k of Object.keys(doc)) {
    const t = tree[k]
    if (t === undefined) continue
    const v = doc[k]
    const path = prefix + k
    if (isLeaf(t)) {
      const r = applyLeaf(t, v, path, positional)
      if (r !== undefined) out[k] = r
    } else if (Array.isArray(v)) {
      out[k] = v.filter(isPlain).map(e => include(e, t, path + '.', positional))
    } else if (isPlain(v)) {
      out[k] = include(v, t, path + '.', positional)
    }
  }
  return out
}

function exclude (doc: Document, tree: Node): Document {
  const out: Document = {}
  for (const k of Object.keys(doc)) {
    const t = tree[k]
    const v = doc[k]
    if (t === undefined) { out[k] = v; continue }
    if (isLeaf(t)) {
      if (t.kind === 'slice') out[k] = applyLeaf(t, v, k, () => [])
      continue
    }
    if (Array.isArray(v)) out[k] = v.map(e => isPlain(e) ? exclude(e, t) : e)
    else if (isPlain(v)) out[k] = exclude(v, t)
    else out[k] = v
  }
  return out
}

// the first element the query's condition on this array field matched, as MongoDB's `field.$`
function positionalMatch (field: string, arr: unknown[], filter: Document | undefined): unknown[] {
  const key = Object.keys(filter ?? {}).find(k => k === field || k.startsWith(field + '.'))
  if (key === undefined) throw new MongoCommandError(51246, 'Location51246', 'Executor error during find command :: caused by :: positional operator \'.$\' couldn\'t find a matching element in the array')
  const q = compileFilter({ [key]: (filter as Document)[key] })
  const hit = arr.find(e => q(nestAt(field, [e])))
  return hit === undefined ? [] : [hit]
}

function nestAt (field: string, v: unknown): Document {
  const parts = field.split('.')
  let out: unknown = v
  for (let i = parts.length - 1; i >= 0; i--) out = { [parts[i]]: out }
  return out as Document
}

function viaMingo (projection: Document): (doc: Document) => Document {
  const agg = new Aggregator([{ $project: projection }], mingoOptions())
  return (doc) => {
    try {
      return agg.run([doc])[0] as Document
    } catch (err) {
      throw new MongoCommandError(2, 'BadValue', (err as Error).message)
    }
  }
}
