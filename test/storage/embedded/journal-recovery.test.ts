/**
 * Recovery on real files: torn tails cut (at every byte of the last frame), corruption where it cannot be
 * a torn write refused with file and offset, and every crash point of a compaction recovering all data.
 */
import t from 'tap'
import { copyFile, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { Int32 } from 'bson'
import { encodeHeader, journalName, snapshotName } from '../../../src/storage/embedded/journal-format.js'
import { readFrames } from '../../../src/storage/embedded/journal-file.js'
import { JournalCorruptionError } from '../../../src/storage/embedded/journal.js'
import { captureLogger, dump, openStore, tempDir } from '../../fixtures/journal-test-kit.js'

/** A data directory with `n` single-document inserts, one frame each after the first; returns frame offsets. */
async function seed (dir: string, n: number, from = 0): Promise<number[]> {
  const h = await openStore(dir)
  for (let i = from; i < from + n; i++) await h.store.insert('app', 'c', [{ _id: new Int32(i), body: `doc ${i}` }], true)
  await h.close()
  return frameOffsets(join(dir, journalName(1)), 1)
}

async function frameOffsets (path: string, generation: number): Promise<number[]> {
  const offsets: number[] = []
  await readFrames(path, 'journal', generation, (_record, offset) => { offsets.push(offset) })
  return offsets
}

async function ids (dir: string): Promise<number[]> {
  const h = await openStore(dir)
  const result = h.store.find('app', 'c', { sort: { _id: 1 } }).map(d => (d._id as Int32).value)
  await h.close()
  return result
}

t.test('a torn last frame, cut at any byte, loses only that frame; the tail is cut, logged and kept aside', async t => {
  const dir = await tempDir(t)
  const offsets = await seed(dir, 5)
  const path = join(dir, journalName(1))
  const full = await readFile(path)
  const lastStart = offsets[offsets.length - 1]

  for (let cut = lastStart; cut < full.length; cut++) {
    for (const f of await readdir(dir)) if (f.includes('.torn-')) await rm(join(dir, f))
    await writeFile(path, full.subarray(0, cut))
    const logger = captureLogger()
    const h = await openStore(dir, logger)
    const warned = logger.find('warn', /torn/)
    const where = `cut at ${cut}`
    t.equal(h.store.documentCount(), 4, `${where}: the four complete documents are back`)
    if (cut === lastStart) {
      t.equal(warned.length, 0, `${where}: a cut between frames is no torn write`)
    } else {
      t.match(warned[0]?.obj, { file: journalName(1), offset: lastStart, bytesCut: cut - lastStart, bytesKept: lastStart },
        `${where}: warning names the byte counts`)
      t.equal((await stat(path)).size, lastStart, `${where}: file truncated to the last good frame`)
      const kept = await readFile(join(dir, `${journalName(1)}.torn-${lastStart}`))
      t.ok(kept.equals(full.subarray(lastStart, cut)), `${where}: the cut bytes are kept aside`)
    }
    // The journal continues after the cut and the next open is clean.
    await h.store.insert('app', 'c', [{ _id: new Int32(100) }], true)
    await h.close()
    const again = captureLogger()
    const h2 = await openStore(dir, again)
    t.equal(again.find('warn', /torn/).length, 0, `${where}: reopening after the repair finds no tear`)
    t.same(h2.store.find('app', 'c', { sort: { _id: 1 } }).map(d => (d._id as Int32).value), [0, 1, 2, 3, 100])
    await h2.close()
  }
})

t.test('a bad CRC or garbage at the end of the live segment is cut like a torn write', async t => {
  const dir = await tempDir(t)
  const offsets = await seed(dir, 5)
  const path = join(dir, journalName(1))
  const full = await readFile(path)
  const lastStart = offsets[offsets.length - 1]

  const flipped = Buffer.from(full)
  flipped[full.length - 3] ^= 0x40 // inside the last payload
  await writeFile(path, flipped)
  let logger = captureLogger()
  let h = await openStore(dir, logger)
  t.equal(h.store.documentCount(), 4)
  t.match(logger.find('warn', /torn/)[0]?.obj, { offset: lastStart, reason: /CRC mismatch/ })
  await h.close()

  await writeFile(path, Buffer.concat([full, Buffer.alloc(8192)])) // zero-filled extension after power loss
  logger = captureLogger()
  h = await openStore(dir, logger)
  t.equal(h.store.documentCount(), 5, 'nothing acknowledged is lost to trailing zeros')
  t.match(logger.find('warn', /torn/)[0]?.obj, { offset: full.length, bytesCut: 8192 })
  t.equal((await readdir(dir)).filter(f => f.includes('.torn-')).length, 2, 'both cut tails kept aside')
  await h.compact()
  t.same((await readdir(dir)).sort(), ['LOCK', journalName(2), snapshotName(2)], 'compaction removes them with their segment')
  await h.close()
})

t.test('corruption in a sealed segment or a snapshot refuses to start, naming file and offset', async t => {
  const dir = await tempDir(t)
  const offsets = await seed(dir, 5)
  // A newer segment seals journal-1: what a crash right after a compaction's rotation leaves.
  await writeFile(join(dir, journalName(2)), encodeHeader('journal', 2))
  const h = await openStore(dir)
  await h.store.insert('app', 'c', [{ _id: new Int32(5) }], true)
  await h.close()
  t.same(await ids(dir), [0, 1, 2, 3, 4, 5], 'two segments replay in order')

  const path1 = join(dir, journalName(1))
  const good = await readFile(path1)
  const bad = Buffer.from(good)
  bad[offsets[2] + 10] ^= 0xff
  await writeFile(path1, bad)
  const err = await openStore(dir).then(() => undefined, (e: unknown) => e)
  t.ok(err instanceof JournalCorruptionError, 'refuses to start')
  t.match(err, { file: journalName(1), offset: offsets[2], message: /journal-000001\.log is corrupt at byte offset \d+: CRC mismatch/ })
  t.notOk((await readdir(dir)).includes('LOCK'), 'and releases the lock')

  await writeFile(path1, good.subarray(0, good.length - 1)) // a "torn tail" is impossible in a sealed segment
  await t.rejects(openStore(dir), { name: 'JournalCorruptionError', file: journalName(1), message: /newer segment exists/ })
  t.equal((await stat(path1)).size, good.length - 1, 'nothing was cut')
  await writeFile(path1, good)

  // Snapshots are complete by construction: damage is refused.
  const c = await openStore(dir)
  await c.compact()
  await c.close()
  const snap = join(dir, snapshotName(3))
  const snapBytes = await readFile(snap)
  const damaged = Buffer.from(snapBytes)
  damaged[40] ^= 0x01
  await writeFile(snap, damaged)
  await t.rejects(openStore(dir), { name: 'JournalCorruptionError', file: snapshotName(3) })
  await writeFile(snap, snapBytes.subarray(0, snapBytes.length - 20)) // end marker missing
  await t.rejects(openStore(dir), { name: 'JournalCorruptionError', file: snapshotName(3) })
  await writeFile(snap, snapBytes)
  t.same(await ids(dir), [0, 1, 2, 3, 4, 5], 'intact again once the file is restored')
})

t.test('a missing segment refuses to start', async t => {
  const dir = await tempDir(t)
  await seed(dir, 3)
  const h = await openStore(dir)
  await h.compact() // snapshot-2, journal-2
  await h.store.insert('app', 'c', [{ _id: new Int32(3) }], true)
  await h.close()
  await rm(join(dir, journalName(2)))
  await t.rejects(openStore(dir), { name: 'JournalCorruptionError', file: journalName(2), message: /missing/ })
  await rm(join(dir, snapshotName(2)))
  await writeFile(join(dir, journalName(3)), encodeHeader('journal', 3))
  await t.rejects(openStore(dir), { name: 'JournalCorruptionError', message: /no snapshot exists/ })
})

t.test('crash points of a compaction all recover the full state', async t => {
  const dir = await tempDir(t)
  await seed(dir, 50)
  const base = await openStore(dir)
  const expected = dump(base.store)
  await base.close()
  const journal1 = await readFile(join(dir, journalName(1)))

  // 1. Crash while writing the snapshot: a half-written temp file, and the new segment already started.
  const h = await openStore(dir)
  await h.compact()
  await h.close()
  const snapshot2 = await readFile(join(dir, snapshotName(2)))
  await rm(join(dir, snapshotName(2)))
  await writeFile(join(dir, `${snapshotName(2)}.tmp`), snapshot2.subarray(0, Math.floor(snapshot2.length / 2)))
  await writeFile(join(dir, journalName(1)), journal1)
  let logger = captureLogger()
  let r = await openStore(dir, logger)
  t.ok(dump(r.store).equals(expected), 'half-written snapshot ignored; journals replayed')
  t.equal(logger.find('warn', /unfinished snapshot/).length, 1)
  await r.close()
  t.same((await readdir(dir)).sort(), [journalName(1), journalName(2)], 'the temp file is removed')

  // 2. Crash after the rename, before old files were deleted.
  await writeFile(join(dir, snapshotName(2)), snapshot2)
  logger = captureLogger()
  r = await openStore(dir, logger)
  t.ok(dump(r.store).equals(expected), 'the new snapshot is used, the leftovers not replayed on top')
  t.match(logger.find('info', /restored/)[0].obj, { snapshot: snapshotName(2), segments: [journalName(2)] })
  await r.close()
  t.same((await readdir(dir)).sort(), [journalName(2), snapshotName(2)], 'leftovers deleted')

  // 3. Crash while creating the next segment: its header is incomplete.
  await writeFile(join(dir, journalName(3)), encodeHeader('journal', 3).subarray(0, 5))
  logger = captureLogger()
  r = await openStore(dir, logger)
  t.ok(dump(r.store).equals(expected))
  t.equal(logger.find('warn', /rewriting the header/).length, 1)
  await r.store.insert('app', 'c', [{ _id: new Int32(1000) }], true)
  await r.close()
  t.equal((await frameOffsets(join(dir, journalName(3)), 3)).length, 1, 'the repaired segment takes new appends')
  t.equal((await ids(dir)).length, 51)
})
