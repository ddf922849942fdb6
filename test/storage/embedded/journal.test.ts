/**
 * openJournaledStore over a real MemoryStore and real files: state survives close/reopen exactly,
 * compaction keeps it (and bounds the files), the data directory lock, and open-time logging.
 */
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { mkdir, readdir, rm, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { Binary, Decimal128, Double, Int32, Long, ObjectId, Timestamp, UUID } from 'bson'
import { DataDirLockedError } from '../../../src/storage/embedded/journal.js'
import { journalName, snapshotName } from '../../../src/storage/embedded/journal-format.js'
import type { EmbeddedStore } from '../../../src/storage/embedded/store.types.js'
import { captureLogger, dump, openStore, tempDir } from '../../fixtures/journal-test-kit.js'

/** Exercises every kind of change the store journals. */
async function workload (store: EmbeddedStore, n: number): Promise<void> {
  await store.createCollection('app', 'capped', { capped: true, size: new Int32(4096) })
  await store.createIndexes('app', 'messages', [
    { key: { conversationId: new Int32(1), seq: new Int32(-1) }, name: 'conv_seq', unique: true },
    { key: { body: 'text' }, name: 'tmp_text' }
  ])
  const conv = new ObjectId()
  const docs = Array.from({ length: n }, (_, i) => ({
    _id: new ObjectId(),
    conversationId: conv,
    seq: new Int32(i),
    body: `message ${i} ✓`,
    score: new Double(i / 3),
    big: Long.fromString('9007199254740993'),
    price: Decimal128.fromString('19.99'),
    bin: new Binary(Buffer.from([i & 255, 1, 2])),
    uid: new UUID(),
    ts: new Timestamp({ t: i, i: 1 }),
    createdAt: new Date(1_700_000_000_000 + i),
    tags: ['a', new Int32(i)]
  }))
  await store.insert('app', 'messages', docs, true)
  await store.update('app', 'messages', [{ q: { seq: { $lt: new Int32(10) } }, u: { $set: { edited: true }, $inc: { seq: new Int32(0) } }, multi: true }], true)
  await store.update('app', 'messages', [{ q: { _id: 'upserted' }, u: { $set: { v: new Int32(1) } }, upsert: true }], true)
  await store.delete('app', 'messages', [{ q: { seq: { $gte: new Int32(n - 5) } }, limit: 0 }], true)
  await store.findAndModify('app', 'messages', { query: { seq: new Int32(20) }, update: { $set: { body: 'replaced' } } })
  await store.dropIndexes('app', 'messages', 'tmp_text')
  await store.insert('other', 'gone', [{ _id: 1 }], true)
  await store.dropDatabase('other')
  await store.insert('app', 'dropped', [{ _id: 1 }], true)
  await store.dropCollection('app', 'dropped')
}

t.test('state survives close and reopen exactly (every record type, BSON types kept)', async t => {
  const dir = await tempDir(t)
  const first = await openStore(dir)
  await workload(first.store, 200)
  const before = dump(first.store)
  const count = first.store.documentCount()
  await first.close()

  const logger = captureLogger()
  const second = await openStore(dir, logger)
  t.teardown(() => second.close())
  t.equal(second.store.documentCount(), count)
  t.ok(dump(second.store).equals(before), 'collections, options, indexes and documents are byte-identical')
  t.same(second.store.listDatabases().map(d => d.name).sort(), ['app'], 'dropped database stays dropped')
  t.same(second.store.listIndexes('app', 'messages').map(i => i.name).sort(), ['_id_', 'conv_seq'])
  const restored = logger.find('info', /restored/)
  t.equal(restored.length, 1, 'open logs what it restored')
  t.match(restored[0].obj, { documents: count, segments: ['journal-000001.log'], snapshot: null })
  t.ok((restored[0].obj.records as number) > 200, 'with the number of records replayed')
  t.type(restored[0].obj.ms, 'number', 'and how long it took')

  // Writes after reopening land in the same segment and survive another reopen.
  await second.store.insert('app', 'messages', [{ _id: 'after-reopen' }], true)
  const after = dump(second.store)
  await second.close()
  const third = await openStore(dir)
  t.ok(dump(third.store).equals(after))
  await third.close()
})

t.test('a write resolves only after its own append is durable; stats count group commits', async t => {
  const dir = await tempDir(t)
  const h = await openStore(dir)
  const writes = Array.from({ length: 300 }, (_, i) => h.store.insert('app', 'c', [{ _id: i }], true))
  await Promise.all(writes)
  const stats = h.stats()
  t.equal(stats.appends, 300, 'one append per insert')
  t.ok(stats.writes < stats.appends, `${stats.appends} appends in ${stats.writes} write+fsync rounds`)
  await h.close()
  await t.rejects(h.store.insert('app', 'c', [{ _id: 'late' }], true), /closed/, 'no write is acknowledged after close')
  const again = await openStore(dir)
  t.equal(again.store.documentCount(), 300)
  await again.close()
})

t.test('compaction: identical state after reopen, old files removed, later writes kept', async t => {
  const dir = await tempDir(t)
  const h = await openStore(dir)
  await workload(h.store, 500)
  await h.compact()
  t.same((await readdir(dir)).sort(), ['LOCK', 'journal-000002.log', 'snapshot-000002.bson'])
  t.equal(h.stats().compactions, 1)
  await h.store.insert('app', 'messages', [{ _id: 'after-compaction', n: new Int32(1) }], true)
  await h.store.delete('app', 'messages', [{ q: { _id: 'upserted' }, limit: 1 }], true)
  const expected = dump(h.store)
  await h.compact()
  await h.store.insert('app', 'messages', [{ _id: 'after-second-compaction' }], true)
  const expected2 = dump(h.store)
  t.notOk(expected.equals(expected2))
  await h.close()
  t.same((await readdir(dir)).sort(), ['journal-000003.log', 'snapshot-000003.bson'], 'lock released on close')

  const logger = captureLogger()
  const reopened = await openStore(dir, logger)
  t.ok(dump(reopened.store).equals(expected2), 'snapshot + journal replay to the same state')
  t.match(logger.find('info', /restored/)[0].obj, { snapshot: 'snapshot-000003.bson', segments: ['journal-000003.log'] })
  await reopened.close()
})

t.test('compaction starts by itself past compactAfterBytes and keeps the journal bounded', async t => {
  const dir = await tempDir(t)
  const limit = 32 * 1024
  const h = await openStore(dir, captureLogger(), limit)
  let i = 0
  for (let round = 0; round < 40; round++) {
    const docs = Array.from({ length: 20 }, () => ({ _id: i++, body: 'x'.repeat(100) }))
    await h.store.insert('app', 'c', docs, true)
    // Overwrite the same documents, so the live data stays small while the journal grows.
    await h.store.update('app', 'c', [{ q: {}, u: { $inc: { v: new Int32(1) } }, multi: true }], true)
    await h.store.delete('app', 'c', [{ q: { _id: { $lt: i - 100 } }, limit: 0 }], true)
  }
  const expected = dump(h.store)
  await h.close() // waits for a running compaction
  t.ok(h.stats().compactions >= 2, `${h.stats().compactions} compactions ran`)

  const files = await readdir(dir)
  t.equal(files.filter(f => f.startsWith('snapshot-')).length, 1, 'one snapshot kept')
  t.ok(files.filter(f => f.startsWith('journal-')).length <= 2, `few segments kept: ${files.join(', ')}`)
  let total = 0
  for (const f of files) total += (await stat(join(dir, f))).size
  t.ok(total < 4 * limit, `data directory holds ${total} bytes`)

  const reopened = await openStore(dir)
  t.ok(dump(reopened.store).equals(expected))
  await reopened.close()
})

t.test('the data directory lock', async t => {
  const dir = await tempDir(t)
  const h = await openStore(dir)
  t.equal((await readdir(dir)).includes('LOCK'), true)
  await t.rejects(openStore(dir), DataDirLockedError, 'a second open of a directory in use fails')
  await t.rejects(openStore(dir), new RegExp(`process ${process.pid}`), 'and names the pid holding it')
  await h.store.insert('a', 'b', [{ _id: 1 }], true)
  await h.close()

  // A lock left by a process that died (kill -9) is taken over with a warning.
  const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' })
  const deadPid = Number(dead.stdout)
  t.ok(deadPid > 0)
  await writeFile(join(dir, 'LOCK'), `${deadPid}\n`)
  const logger = captureLogger()
  const taken = await openStore(dir, logger)
  t.match(logger.find('warn', /stale/)[0]?.obj, { stalePid: deadPid })
  t.equal(taken.store.documentCount(), 1)
  await taken.close()

  // An empty lock file (crash before the pid was written, by an older version) is stale too.
  await writeFile(join(dir, 'LOCK'), '')
  const again = await openStore(dir)
  await again.close()
  t.same(await readdir(dir), ['journal-000001.log'])
})

t.test('a failed compaction is logged, writes go on, and nothing is lost', async t => {
  const dir = await tempDir(t)
  const logger = captureLogger()
  const h = await openStore(dir, logger)
  await workload(h.store, 50)
  await h.store.insert('app', 'big', [{ _id: 1, blob: 'b'.repeat(300 * 1024) }], true) // larger than a snapshot chunk

  // The snapshot cannot be written: its temp name is taken by a directory.
  await mkdir(join(dir, `${snapshotName(2)}.tmp`))
  await h.compact()
  t.equal(logger.find('error', /compaction failed/).length, 1)
  await h.store.insert('app', 'messages', [{ _id: 'after-failed-snapshot' }], true)

  // The next segment cannot be created: its name is taken.
  await mkdir(join(dir, journalName(3)))
  await h.compact()
  t.equal(logger.find('error', /could not start a new journal segment/).length, 1)
  t.equal(logger.find('error', /compaction failed/).length, 2)
  await h.store.insert('app', 'messages', [{ _id: 'after-failed-rotation' }], true)
  t.equal(h.stats().generation, 2, 'appends continue in the current segment')
  t.equal(h.stats().compactions, 0)
  const expected = dump(h.store)
  await h.close()
  await rm(join(dir, journalName(3)), { recursive: true })

  const reopened = await openStore(dir)
  t.ok(dump(reopened.store).equals(expected), 'all data, from both segments')
  await reopened.compact()
  t.same((await readdir(dir)).sort(), ['LOCK', journalName(3), snapshotName(3)], 'a later compaction succeeds and cleans up')
  await reopened.close()
  const last = await openStore(dir)
  t.ok(dump(last.store).equals(expected))
  await last.close()
})

t.test('after a failed automatic compaction, the next attempt waits instead of retrying on every write', async t => {
  const dir = await tempDir(t)
  const logger = captureLogger()
  const h = await openStore(dir, logger, 2048)
  await mkdir(join(dir, `${snapshotName(2)}.tmp`))
  for (let i = 0; i < 60; i++) await h.store.insert('app', 'c', [{ _id: i, body: 'x'.repeat(200) }], true)
  await h.close()
  t.equal(logger.find('error', /compaction failed/).length, 1, 'one failed attempt')
  t.equal(h.stats().compactions, 0)
  t.ok(h.stats().segmentBytes > 2048, 'although the live segment is past the threshold again')
  t.same((await readdir(dir)).filter(f => f.startsWith('journal-')).sort(), [journalName(1), journalName(2)])
  const reopened = await openStore(dir)
  t.equal(reopened.store.documentCount(), 60)
  await reopened.close()
})
