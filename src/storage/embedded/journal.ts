/**
 * Durability of the embedded engine: an append-only, CRC-framed BSON journal with group commit, replayed
 * into the store at open, compacted into snapshots in the background. Format: journal-format.ts; replay and
 * what is trusted: journal-recovery.ts; compaction and its crash safety: journal-compaction.ts.
 */
import { mkdir } from 'node:fs/promises'
import { dirname, resolve } from 'node:path'
import { Compactor } from './journal-compaction.js'
import { fsyncDir } from './journal-file.js'
import { acquireLock } from './journal-lock.js'
import { recover } from './journal-recovery.js'
import { JournalWriter, type JournalStats } from './journal-writer.js'
import type { Durability, JournaledStore, JournaledStoreOptions } from './store.types.js'

export type { JournalStats } from './journal-writer.js'
export { JournalCorruptionError } from './journal-file.js'
export { DataDirLockedError } from './journal-lock.js'

/** Default for `compactAfterBytes`: 64 MiB. */
export const DEFAULT_COMPACT_AFTER_BYTES = 64 * 1024 * 1024

/** What openJournaledStore returns: the contract's JournaledStore plus introspection for tests and ops. */
export interface JournaledStoreHandle extends JournaledStore {
  /** A copy of the journal's counters (group-commit factor = appends / writes). */
  stats (): JournalStats
  /** Compacts now, regardless of size thresholds; resolves when done (failures are logged). */
  compact (): Promise<void>
  /** The journal write error that stopped the journal (every later write is refused); undefined while healthy. */
  failure (): Error | undefined
}

/**
 * Opens (creating if needed) `dataDir`, locks it, builds the store with the journal as its Durability and
 * replays the snapshot and journal into it. Throws if another live process holds the directory or if data
 * that was acknowledged cannot be read back (JournalCorruptionError names the file and offset).
 */
export async function openJournaledStore (options: JournaledStoreOptions): Promise<JournaledStoreHandle> {
  const { dataDir, logger } = options
  const compactAfterBytes = options.compactAfterBytes ?? DEFAULT_COMPACT_AFTER_BYTES
  const started = performance.now()
  const created = await mkdir(dataDir, { recursive: true })
  if (created !== undefined) await fsyncNewDirs(created, dataDir)
  const lock = await acquireLock(dataDir, logger)

  let writer: JournalWriter | undefined
  const durability: Durability = {
    append (records) {
      if (writer === undefined) return Promise.reject(new Error('journal is not open yet: replay must not append'))
      return writer.append(records)
    },
    failure: () => writer?.failed
  }
  let compactor: Compactor
  try {
    const store = options.createStore(durability)
    const recovered = await recover(dataDir, store, logger)
    writer = new JournalWriter(dataDir, logger, recovered.fh, recovered.generation, recovered.segmentBytes,
      () => compactor.maybeStart())
    compactor = new Compactor(dataDir, logger, writer, store, compactAfterBytes, recovered.snapshotBytes)
    logger.info({
      dataDir,
      snapshot: recovered.snapshot,
      segments: recovered.segments,
      records: recovered.records,
      documents: store.documentCount(),
      tornBytesCut: recovered.tornBytesCut,
      ms: Math.round(performance.now() - started)
    }, 'embedded store restored from disk')
    compactor.maybeStart() // the live segment may already be over the threshold

    const live = writer
    let closing: Promise<void> | undefined
    return {
      store,
      stats: () => ({ ...live.stats }),
      compact: () => compactor.compactNow(),
      failure: () => live.failed,
      close () {
        closing ??= (async () => {
          await compactor.stop()
          await live.close()
          await lock.release()
        })()
        return closing
      }
    }
  } catch (err) {
    await lock.release()
    throw err
  }
}

/**
 * mkdir -p made `created` .. `dataDir`: fsync each new directory's parent, so the data directory itself
 * cannot vanish in a power loss after the first write was acknowledged.
 */
async function fsyncNewDirs (created: string, dataDir: string): Promise<void> {
  const top = resolve(created)
  for (let dir = resolve(dataDir); ; dir = dirname(dir)) {
    await fsyncDir(dirname(dir))
    if (dir === top || dir === dirname(dir)) break
  }
}
