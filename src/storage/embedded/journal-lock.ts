/**
 * `LOCK` file holding the owner's pid, so two processes never open the same data directory.
 *
 * The lock is created atomically with its content (write a private temp file, then link(2) it to `LOCK`,
 * which fails if `LOCK` exists), so a reader never sees an empty lock. A lock whose pid is not running is
 * stale (the owner was killed) and is taken over with a warning. Known limits: a stale pid reused by an
 * unrelated process makes the directory look locked (delete `LOCK` by hand); two processes taking over the
 * same stale lock at the same instant may both succeed.
 */
import { link, readFile, unlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { EngineLogger } from './store.types.js'

export const LOCK_NAME = 'LOCK'

export class DataDirLockedError extends Error {
  constructor (readonly dataDir: string, readonly pid: number) {
    super(`data directory ${dataDir} is in use by process ${pid}${pid === process.pid ? ' (this process)' : ''}`)
    this.name = 'DataDirLockedError'
  }
}

export interface DataDirLock { release (): Promise<void> }

export async function acquireLock (dataDir: string, logger: EngineLogger): Promise<DataDirLock> {
  const lockPath = join(dataDir, LOCK_NAME)
  const tmpPath = join(dataDir, `${LOCK_NAME}.${process.pid}.tmp`)
  await writeFile(tmpPath, `${process.pid}\n`)
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        await link(tmpPath, lockPath)
        break
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt >= 2) throw err
      }
      const content = await readFile(lockPath, 'utf8').catch(() => '')
      const pid = Number.parseInt(content, 10)
      if (Number.isInteger(pid) && pid > 0 && isRunning(pid)) throw new DataDirLockedError(dataDir, pid)
      logger.warn({ dataDir, stalePid: Number.isNaN(pid) ? content : pid }, 'taking over stale data directory lock')
      await unlink(lockPath).catch((err: NodeJS.ErrnoException) => { if (err.code !== 'ENOENT') throw err })
    }
  } finally {
    await unlink(tmpPath).catch(() => {})
  }
  let released = false
  return {
    async release () {
      if (released) return
      released = true
      await unlink(lockPath)
    }
  }
}

function isRunning (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM' // exists, owned by someone else
  }
}
