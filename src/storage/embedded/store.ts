/**
 * The engine's in-memory store: databases of collections, each write applied in memory (atomically per
 * document, synchronously) and then handed to `durability.append` as JournalRecords before the call
 * resolves. Reads return the stored frozen documents (or projected copies), never something whose
 * mutation could change the store.
 */
import { explainAggregate, runAggregate } from './aggregate.js'
import { compareBson } from './bson-order.js'
import { Collection, type ScanStats } from './collection.js'
import { cloneDoc, deepFreeze } from './doc-utils.js'
import { explainFind } from './explain-plan.js'
import { validateKeyPattern } from './index-tree.js'
import { asCommandError, compileFilter } from './match.js'
import { compileProjection } from './projection.js'
import { catalogSnapshot, checkNamespace, indexConflict, specFromRequest } from './store-catalog.js'
import {
  distinctValues, findAndModifyInMemory, prepareInsert, toWriteError, updateStatement, type Namespaces
} from './store-writes.js'
import {
  MongoCommandError,
  type CollectionInfo, type DeleteResult, type DeleteStatement, type Document, type Durability, type EmbeddedStore, type ExplainVerbosity,
  type FindAndModifyArgs, type FindAndModifyResult, type FindQuery, type IndexSpec, type InsertResult,
  type JournalRecord, type UpdateResult, type UpdateStatement, type WriteError
} from './store.types.js'
import { expireTtlPass, type TtlTarget } from './ttl.js'

export interface MemoryStoreOptions {
  /** Receives every applied change; writes resolve once it has. Default: none (memory only). */
  durability?: Durability
}

export class MemoryStore implements EmbeddedStore {
  private readonly dbs = new Map<string, Map<string, Collection>>()
  private readonly durability?: Durability
  private readonly namespaces: Namespaces = {
    get: (db, coll) => this.get(db, coll),
    ensure: (db, coll, records) => this.ensure(db, coll, records)
  }
  private readonly ttlTarget: TtlTarget = {
    collection: (db, coll) => this.get(db, coll),
    namespaces: () => [...this.dbs].flatMap(([db, colls]) => [...colls.keys()].map(coll => [db, coll] as [string, string])),
    commit: async records => await this.commit(records)
  }
  private ttlPass: Promise<unknown> = Promise.resolve()

  constructor (options: MemoryStoreOptions = {}) {
    this.durability = options.durability
  }

  // ---- catalog ----

  listDatabases (): Array<{ name: string; sizeOnDisk: number; empty: boolean }> {
    return [...this.dbs.entries()].map(([name, colls]) => {
      let docs = 0
      for (const c of colls.values()) docs += c.size
      return { name, sizeOnDisk: docs * 256 + colls.size * 4096, empty: colls.size === 0 }
    })
  }

  async dropDatabase (db: string): Promise<void> {
    this.assertWritable()
    if (!this.dbs.has(db)) return
    this.dbs.delete(db)
    await this.commit([{ t: 'dropDb', db }])
  }

  listCollections (db: string, filter?: Document): CollectionInfo[] {
    const infos: CollectionInfo[] = [...(this.dbs.get(db)?.values() ?? [])].map(c => ({
      name: c.name,
      type: 'collection',
      options: cloneDoc(c.options),
      info: { readOnly: false },
      idIndex: { v: 2, key: { _id: 1 }, name: '_id_' }
    }))
    const pred = compileFilter(filter)
    return infos.filter(i => pred(i))
  }

  async createCollection (db: string, coll: string, options: Document = {}): Promise<void> {
    this.assertWritable()
    checkNamespace(db, coll)
    if (this.get(db, coll) !== undefined) throw new MongoCommandError(48, 'NamespaceExists', `Collection ${db}.${coll} already exists.`)
    const records: JournalRecord[] = []
    this.ensure(db, coll, records, options)
    await this.commit(records)
  }

  async dropCollection (db: string, coll: string): Promise<boolean> {
    this.assertWritable()
    const colls = this.dbs.get(db)
    if (colls?.has(coll) !== true) return false
    colls.delete(coll)
    await this.commit([{ t: 'dropColl', db, coll }])
    return true
  }

  async createIndexes (db: string, coll: string, specs: IndexSpec[]): Promise<{ numIndexesBefore: number; numIndexesAfter: number; createdCollectionAutomatically: boolean }> {
    this.assertWritable()
    checkNamespace(db, coll)
    if (!Array.isArray(specs) || specs.length === 0) throw new MongoCommandError(2, 'BadValue', 'Must specify at least one index to create')
    const wanted = specs.map(specFromRequest)
    for (const s of wanted) validateKeyPattern(s.key)
    const existing = this.get(db, coll)
    const before = existing?.indexes.size ?? 1
    // validate everything before changing anything, so a failing batch creates nothing
    const fresh = wanted.filter((s, i) => {
      const current = existing === undefined ? [] : [...existing.indexes.values()].map(ix => ix.spec)
      const same = indexConflict([...current, ...wanted.slice(0, i)], s)
      return !same
    })
    const records: JournalRecord[] = []
    const created = existing === undefined
    const c = this.ensure(db, coll, records)
    const added: string[] = []
    try {
      for (const spec of fresh) {
        c.addIndex(spec)
        added.push(spec.name)
      }
    } catch (err) {
      for (const name of added) c.indexes.delete(name)
      await this.commit(records)
      throw err
    }
    for (const spec of fresh) records.push({ t: 'createIndex', db, coll, spec: cloneDoc(spec) })
    await this.commit(records)
    return { numIndexesBefore: before, numIndexesAfter: c.indexes.size, createdCollectionAutomatically: created }
  }

  listIndexes (db: string, coll: string): IndexSpec[] {
    const c = this.get(db, coll)
    if (c === undefined) throw new MongoCommandError(26, 'NamespaceNotFound', `ns does not exist: ${db}.${coll}`)
    return [...c.indexes.values()].map(ix => ({ v: 2, ...cloneDoc(ix.spec) }))
  }

  async dropIndexes (db: string, coll: string, index: string | string[] | Document): Promise<{ nIndexesWas: number }> {
    this.assertWritable()
    const c = this.get(db, coll)
    if (c === undefined) throw new MongoCommandError(26, 'NamespaceNotFound', `ns not found ${db}.${coll}`)
    const was = c.indexes.size
    let names: string[]
    if (index === '*') names = [...c.indexes.keys()].filter(n => n !== '_id_')
    else if (typeof index === 'string') names = [index]
    else if (Array.isArray(index)) names = index
    else {
      const ix = [...c.indexes.values()].find(x => compareBson(x.spec.key, index) === 0 && Object.keys(x.spec.key).join() === Object.keys(index).join())
      if (ix === undefined) throw new MongoCommandError(27, 'IndexNotFound', `can't find index with key: ${JSON.stringify(index)}`)
      names = [ix.name]
    }
    for (const n of names) {
      if (n === '_id_') throw new MongoCommandError(72, 'InvalidOptions', 'cannot drop _id index')
      if (!c.indexes.has(n)) throw new MongoCommandError(27, 'IndexNotFound', `index not found with name [${n}]`)
    }
    for (const n of names) c.indexes.delete(n)
    await this.commit(names.map(name => ({ t: 'dropIndex', db, coll, name })))
    return { nIndexesWas: was }
  }

  // ---- writes ----

  async insert (db: string, coll: string, docs: Document[], ordered: boolean): Promise<InsertResult> {
    this.assertWritable()
    checkNamespace(db, coll)
    const records: JournalRecord[] = []
    const c = this.ensure(db, coll, records)
    const writeErrors: WriteError[] = []
    let n = 0
    for (let i = 0; i < docs.length; i++) {
      try {
        const doc = prepareInsert(docs[i])
        c.insert(doc)
        records.push({ t: 'put', db, coll, doc })
        n++
      } catch (err) {
        writeErrors.push(toWriteError(i, err))
        if (ordered) break
      }
    }
    await this.commit(records)
    return { n, writeErrors }
  }

  async update (db: string, coll: string, updates: UpdateStatement[], ordered: boolean): Promise<UpdateResult> {
    this.assertWritable()
    checkNamespace(db, coll)
    const records: JournalRecord[] = []
    const result: UpdateResult = { n: 0, nModified: 0, upserted: [], writeErrors: [] }
    for (let i = 0; i < updates.length; i++) {
      const st = updates[i]
      try {
        updateStatement(this.namespaces, db, coll, st, i, result, records)
      } catch (err) {
        result.writeErrors.push(toWriteError(i, err))
        if (ordered) break
      }
    }
    await this.commit(records)
    return result
  }

  async delete (db: string, coll: string, deletes: DeleteStatement[], ordered: boolean): Promise<DeleteResult> {
    this.assertWritable()
    const records: JournalRecord[] = []
    const result: DeleteResult = { n: 0, writeErrors: [] }
    const c = this.get(db, coll)
    for (let i = 0; i < deletes.length; i++) {
      try {
        const d = deletes[i]
        const recs = c?.findRecs({ filter: d.q, limit: Number(d.limit) === 1 ? 1 : 0 }) ?? []
        for (const rec of recs) {
          c?.remove(rec)
          records.push({ t: 'del', db, coll, id: rec.doc._id })
          result.n++
        }
      } catch (err) {
        result.writeErrors.push(toWriteError(i, err))
        if (ordered) break
      }
    }
    await this.commit(records)
    return result
  }

  async findAndModify (db: string, coll: string, args: FindAndModifyArgs): Promise<FindAndModifyResult> {
    this.assertWritable()
    checkNamespace(db, coll)
    const remove = args.remove === true
    if (remove === (args.update !== undefined)) {
      throw new MongoCommandError(9, 'FailedToParse', remove ? 'Cannot specify both an update and remove=true' : 'Either an update or remove=true must be specified')
    }
    if (remove && (args.upsert === true || args.new === true)) throw new MongoCommandError(9, 'FailedToParse', 'Cannot specify both upsert=true and remove=true')
    const records: JournalRecord[] = []
    try {
      return findAndModifyInMemory(this.namespaces, db, coll, args, records)
    } catch (err) {
      throw asCommandError(err)
    } finally {
      await this.commit(records)
    }
  }

  // ---- reads ----

  find (db: string, coll: string, query: FindQuery): Document[] {
    const c = this.get(db, coll)
    const project = compileProjection(query.projection, query.filter)
    if (c === undefined) {
      compileFilter(query.filter)
      return []
    }
    const docs = c.findRecs(query).map(r => r.doc)
    return project === undefined ? docs : docs.map(project)
  }

  /**
   * How a find runs, in brief: the index used (null for a collection scan), documents examined and returned.
   * Not part of EmbeddedStore (tests and benchmarks use it); the wire server's `explain` uses `explain`.
   */
  explainFind (db: string, coll: string, query: FindQuery): { index: string | null; docsExamined: number; nReturned: number; sortedByIndex: boolean } {
    const stats: ScanStats = { examined: 0 }
    const n = this.get(db, coll)?.findRecs(query, stats).length ?? 0
    return { index: stats.index ?? null, docsExamined: stats.examined, nReturned: n, sortedByIndex: stats.sortedByIndex === true }
  }

  explain (db: string, coll: string, query: FindQuery, verbosity: ExplainVerbosity): Document {
    return explainFind(`${db}.${coll}`, this.get(db, coll), query, verbosity)
  }

  explainAggregate (db: string, coll: string, pipeline: Document[], verbosity: ExplainVerbosity): Document {
    return explainAggregate(`${db}.${coll}`, this.get(db, coll), pipeline, verbosity)
  }

  aggregate (db: string, coll: string, pipeline: Document[]): Document[] {
    return runAggregate(this.get(db, coll), pipeline, name => this.find(db, name, {}))
  }

  count (db: string, coll: string, query?: Document, skip?: number, limit?: number): number {
    const c = this.get(db, coll)
    if (c === undefined) return 0
    if ((query == null || Object.keys(query).length === 0)) {
      const n = Math.max(0, c.size - (skip ?? 0))
      return limit != null && limit !== 0 ? Math.min(n, Math.abs(limit)) : n
    }
    return c.findRecs({ filter: query, skip, limit }).length
  }

  distinct (db: string, coll: string, key: string, query?: Document): unknown[] {
    const c = this.get(db, coll)
    if (c === undefined) return []
    return distinctValues(c, key, query)
  }

  // ---- TTL ----

  /**
   * One TTL pass (ttl.ts): deletes, journaled, the documents whose TTL-indexed date is before
   * `now` - expireAfterSeconds. Passes run one after another. Not part of EmbeddedStore; the TTL monitor
   * and tests call it.
   */
  async expireTtl (now: Date = new Date()): Promise<number> {
    this.assertWritable()
    const pass = this.ttlPass.then(async () => await expireTtlPass(this.ttlTarget, now))
    this.ttlPass = pass.catch(() => {})
    return await pass
  }

  // ---- journal support ----

  applyRecord (r: JournalRecord): void {
    switch (r.t) {
      case 'put': this.ensure(r.db, r.coll, []).putRaw(deepFreeze(r.doc)); break
      case 'del': {
        const c = this.get(r.db, r.coll)
        const rec = c?.getById(r.id)
        if (rec !== undefined) c?.remove(rec)
        break
      }
      case 'createColl': this.ensure(r.db, r.coll, [], r.options); break
      case 'dropColl': this.dbs.get(r.db)?.delete(r.coll); break
      case 'createIndex': {
        const c = this.ensure(r.db, r.coll, [])
        if (!c.indexes.has(r.spec.name)) c.addIndexRaw(r.spec)
        break
      }
      case 'dropIndex': if (r.name !== '_id_') this.get(r.db, r.coll)?.indexes.delete(r.name); break
      case 'dropDb': this.dbs.delete(r.db); break
    }
  }

  snapshot (): Iterable<JournalRecord> {
    return catalogSnapshot(this.dbs)
  }

  documentCount (): number {
    let n = 0
    for (const colls of this.dbs.values()) for (const c of colls.values()) n += c.size
    return n
  }

  // ---- helpers ----

  private get (db: string, coll: string): Collection | undefined {
    return this.dbs.get(db)?.get(coll)
  }

  private ensure (db: string, coll: string, records: JournalRecord[], options: Document = {}): Collection {
    let colls = this.dbs.get(db)
    if (colls === undefined) this.dbs.set(db, colls = new Map())
    let c = colls.get(coll)
    if (c === undefined) {
      c = new Collection(db, coll, cloneDoc(options))
      colls.set(coll, c)
      records.push({ t: 'createColl', db, coll, options: cloneDoc(options) })
    }
    return c
  }

  /**
   * After a journal failure nothing more may change memory: a change that cannot be journaled would be
   * served by reads and lost at restart. OperationFailed: neither retryable nor a topology change, so the
   * driver reports it at once (IllegalOperation, a read-only mongod's code, the driver rewrites into a
   * misleading "does not support retryable writes").
   */
  private assertWritable (): void {
    const failure = this.durability?.failure?.()
    if (failure === undefined) return
    throw new MongoCommandError(96, 'OperationFailed',
      `the embedded engine refuses writes after a journal write failure (${failure.message}); restart it once the disk is fixed`)
  }

  private async commit (records: JournalRecord[]): Promise<void> {
    if (records.length > 0 && this.durability !== undefined) await this.durability.append(records)
  }
}
