/**
 * Startup replay: newest snapshot, then the journal segments after it, into the store.
 *
 * What is trusted and what is cut (why):
 * - Snapshots are renamed into place only after being fully written and fsync'd, so a snapshot file is
 *   complete by construction. Any bad frame or a missing end marker is media corruption: refuse to start.
 * - A segment is sealed once a newer segment exists: the writer fsyncs every batch before the next one and
 *   creates the next segment only after that, so a sealed segment cannot have a torn tail. A bad frame in it
 *   is corruption: refuse to start, naming the file and offset, rather than silently drop acked data.
 * - Only the live (newest) segment can end in a torn write: the one batch being written when the process
 *   died, never acked since its fsync did not complete. Everything from its first bad frame on is cut, the
 *   cut bytes are kept next to it as `journal-G.log.torn-OFFSET` (for inspection; removed with the segment
 *   by the next compaction), and a warning names the byte counts. This cannot tell a torn write from media
 *   damage in the live segment's last bytes; damage further back would cut acked data, which is why the
 *   cut bytes are kept and the warning is loud.
 * - `snapshot-*.tmp` files are compactions that did not finish; they are deleted. Files older than the
 *   newest snapshot are leftovers of a compaction that finished but crashed before cleaning up; deleted.
 */
import { open, readdir, rm, unlink, writeFile, type FileHandle } from 'node:fs/promises'
import { join } from 'node:path'
import type { Document } from 'bson'
import {
  HEADER_BYTES, encodeHeader, journalName, parseName, snapshotName
} from './journal-format.js'
import { JournalCorruptionError, fsyncDir, readFrames, truncateDurably } from './journal-file.js'
import type { EmbeddedStore, EngineLogger, JournalRecord } from './store.types.js'
import { openSegmentForAppend } from './journal-writer.js'

export interface RecoveryResult {
  /** The live segment, open for writing at `segmentBytes`. */
  fh: FileHandle
  generation: number
  segmentBytes: number
  /** Size of the snapshot loaded, 0 if none. */
  snapshotBytes: number
  snapshot: string | null
  segments: string[]
  records: number
  tornBytesCut: number
}

export async function recover (dataDir: string, store: EmbeddedStore, logger: EngineLogger): Promise<RecoveryResult> {
  const snapshots: number[] = []
  const journals: number[] = []
  for (const name of await readdir(dataDir)) {
    if (/^snapshot-\d+\.bson\.tmp$/.test(name)) {
      logger.warn({ file: name }, 'removing unfinished snapshot from an interrupted compaction')
      await rm(join(dataDir, name), { recursive: true, force: true })
      continue
    }
    const parsed = parseName(name)
    if (parsed === undefined) continue
    ;(parsed.kind === 'snapshot' ? snapshots : journals).push(parsed.generation)
  }
  snapshots.sort((a, b) => a - b)
  journals.sort((a, b) => a - b)

  const snapGen = snapshots.length > 0 ? snapshots[snapshots.length - 1] : 0
  const firstGen = snapGen > 0 ? snapGen : 1
  const live = journals.filter((g) => g >= firstGen)
  // Generations are consecutive from the snapshot's (or from 1): a gap means a file holding acked data is gone.
  const needed = snapGen > 0 ? Math.max(1, live.length) : live.length
  for (let i = 0; i < needed; i++) {
    if (live[i] !== firstGen + i) {
      throw new JournalCorruptionError(journalName(firstGen + i), 0, 'file is missing', snapGen > 0
        ? `journals must continue from ${snapshotName(snapGen)} without gaps`
        : `no snapshot exists, so journals must start at ${journalName(1)} without gaps`)
    }
  }

  let records = 0
  const apply = (record: Document): void => {
    store.applyRecord(record as JournalRecord)
    records++
  }

  let snapshotBytes = 0
  if (snapGen > 0) {
    const name = snapshotName(snapGen)
    let end: Document | undefined
    const result = await readFrames(join(dataDir, name), 'snapshot', snapGen, (record, offset) => {
      if (end !== undefined) throw new JournalCorruptionError(name, offset, 'record after the end marker')
      if (record.t === 'end') end = record
      else apply(record)
    })
    if (result.problem !== undefined) {
      throw new JournalCorruptionError(name, result.problem.offset, result.problem.reason,
        'snapshots are fsync\'d before being renamed into place, so this is damage, not a torn write')
    }
    if (end === undefined) throw new JournalCorruptionError(name, result.goodEnd, 'snapshot has no end marker')
    if (Number(end.records) !== result.frames - 1) {
      throw new JournalCorruptionError(name, result.goodEnd,
        `end marker counts ${Number(end.records)} records, file holds ${result.frames - 1}`)
    }
    snapshotBytes = result.fileSize
  }

  let tornBytesCut = 0
  let segmentBytes = HEADER_BYTES
  for (const [i, gen] of live.entries()) {
    const name = journalName(gen)
    const path = join(dataDir, name)
    const result = await readFrames(path, 'journal', gen, apply)
    segmentBytes = result.goodEnd
    if (result.problem === undefined) continue
    const isLive = i === live.length - 1
    const { offset, reason } = result.problem
    if (!isLive) {
      throw new JournalCorruptionError(name, offset, reason,
        `a newer segment exists, so this is not a torn write; refusing to start without the data after offset ${offset}`)
    }
    if (offset === 0) {
      // Creation of this segment was interrupted before any append could reach it: start it over.
      if (result.fileSize > HEADER_BYTES) throw new JournalCorruptionError(name, 0, reason)
      logger.warn({ file: name, reason }, 'rewriting the header of an empty journal segment')
      await writeFile(path, encodeHeader('journal', gen), { flush: true })
      segmentBytes = HEADER_BYTES
      continue
    }
    const cut = result.fileSize - offset
    const savedAs = `${name}.torn-${offset}`
    await saveTail(path, join(dataDir, savedAs), offset, cut)
    await truncateDurably(path, offset)
    tornBytesCut += cut
    logger.warn({ file: name, offset, bytesCut: cut, bytesKept: offset, reason, savedAs },
      'journal ended in a torn write (an unacknowledged append interrupted by a crash); cut it off')
  }

  const generation = live.length > 0 ? live[live.length - 1] : firstGen
  if (live.length === 0) { // a new data directory
    await writeFile(join(dataDir, journalName(generation)), encodeHeader('journal', generation), { flag: 'wx', flush: true })
    segmentBytes = HEADER_BYTES
  }

  // Leftovers of a compaction that completed: the newest snapshot supersedes them.
  for (const gen of journals.filter((g) => g < firstGen)) await unlink(join(dataDir, journalName(gen)))
  for (const gen of snapshots.filter((g) => g < snapGen)) await unlink(join(dataDir, snapshotName(gen)))
  await fsyncDir(dataDir)

  const fh = await openSegmentForAppend(join(dataDir, journalName(generation)))
  return {
    fh,
    generation,
    segmentBytes,
    snapshotBytes,
    snapshot: snapGen > 0 ? snapshotName(snapGen) : null,
    segments: live.length > 0 ? live.map(journalName) : [journalName(generation)],
    records,
    tornBytesCut
  }
}

async function saveTail (from: string, to: string, offset: number, length: number): Promise<void> {
  const src = await open(from, 'r')
  try {
    const buf = Buffer.alloc(length)
    await src.read(buf, 0, length, offset)
    await writeFile(to, buf, { flush: true })
  } finally {
    await src.close()
  }
}
