/**
 * Real write failures for journal tests: lowers this process's RLIMIT_FSIZE soft limit with prlimit(1), so
 * a write past `bytes` in any regular file fails with EFBIG in the write system call itself (Node ignores
 * SIGXFSZ). No root needed; Linux with util-linux only.
 */
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { readdir, stat } from 'node:fs/promises'
import { join } from 'node:path'

function hasPrlimit (): boolean {
  try {
    execFileSync('prlimit', ['--version'], { stdio: 'ignore' })
    return readFileSync('/proc/self/limits', 'utf8').includes('Max file size')
  } catch {
    return false
  }
}

/** Why the file-size limit cannot be used here, or false when it can (for `t.test(..., { skip })`). */
export const cannotLimitFileSize: string | false = process.platform === 'linux' && hasPrlimit() ? false : 'needs Linux and prlimit(1)'

function softLimit (): string {
  const line = readFileSync('/proc/self/limits', 'utf8').split('\n').find(l => l.startsWith('Max file size'))
  return line?.split(/\s{2,}/)[1] ?? 'unlimited'
}

const ignore = (): void => {}

/** Writes that would extend any file past `bytes` fail from now on; returns the function that lifts the limit. */
export function limitFileSize (bytes: number): () => void {
  // Node ignores SIGXFSZ, but tap's signal-exit handler re-raises it (ending the test process) unless another
  // listener exists. Kept for the process's life: the signal is handled on the event loop, after the write.
  if (!process.listeners('SIGXFSZ').includes(ignore)) process.on('SIGXFSZ', ignore)
  const previous = softLimit()
  const set = (soft: string): void => { execFileSync('prlimit', ['--pid', String(process.pid), `--fsize=${soft}:`]) }
  set(String(bytes))
  let lifted = false
  return () => {
    if (lifted) return
    lifted = true
    set(previous)
  }
}

/** Size of the live (newest) journal segment in `dataDir`: a limit of exactly this fails the next append. */
export async function liveSegmentBytes (dataDir: string): Promise<number> {
  const segments = (await readdir(dataDir)).filter(name => /^journal-\d+\.log$/.test(name)).sort()
  if (segments.length === 0) throw new Error(`no journal segment in ${dataDir}`)
  return (await stat(join(dataDir, segments[segments.length - 1]))).size
}
