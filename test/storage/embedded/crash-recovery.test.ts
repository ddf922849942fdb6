/**
 * kill -9 a real server process while the driver inserts into it, several times over the same data
 * directory (with compactions along the way), then check every acknowledged document is there, intact.
 */
import t from 'tap'
import { spawn } from 'node:child_process'
import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { serialize } from 'bson'
import { openJournaledStore } from '../../../src/storage/embedded/journal.js'
import { MemoryStore } from '../../../src/storage/embedded/store.js'
import type { EngineLogger } from '../../../src/storage/embedded/store.types.js'
import { expectedMessage } from '../../fixtures/journal-crash-message.js'

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..')
const fixture = join(root, 'test', 'fixtures', 'journal-crash-writer.ts')

interface Round { acked: Map<number, string>; signal: NodeJS.Signals | null; code: number | null; stderr: string }

/** Runs the writer until it has acknowledged `killAfter` inserts, then SIGKILLs it. */
function crashRound (dataDir: string, firstIndex: number, killAfter: number, compactAfterBytes: number): Promise<Round> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', fixture, dataDir, String(firstIndex), String(compactAfterBytes)], {
      cwd: root,
      // A tsx-run writer that exits (rather than being killed) must not record coverage: merged with the tests' it
      // corrupts the report.
      env: { ...process.env, _TAPJS_PROCESSINFO_COVERAGE_: '0' },
      stdio: ['ignore', 'pipe', 'pipe']
    })
    const acked = new Map<number, string>()
    let stderr = ''
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => { stderr += chunk })
    const lines = createInterface({ input: child.stdout })
    let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined
    let stdoutDone = false
    const finish = (): void => {
      if (exit !== undefined && stdoutDone) resolve({ acked, stderr, ...exit })
    }
    lines.on('line', line => {
      const m = /^ACK (\d+) ([0-9a-f]{24})$/.exec(line)
      if (m === null) return
      acked.set(Number(m[1]), m[2])
      if (acked.size === killAfter) child.kill('SIGKILL')
    })
    lines.on('close', () => { stdoutDone = true; finish() })
    // A writer that stalls must not outlive the test: the round then fails on the ack count.
    const stall = setTimeout(() => child.kill('SIGKILL'), 90_000)
    child.on('error', reject)
    child.on('exit', (code, signal) => { clearTimeout(stall); exit = { code, signal }; finish() })
  })
}

t.test('every acknowledged insert survives repeated kill -9, compactions included', async t => {
  const dataDir = await mkdtemp(join(tmpdir(), 'parley-crash-'))
  t.teardown(() => rm(dataDir, { recursive: true, force: true }))

  const acked = new Map<number, string>()
  const killAfter = [600, 25, 900]
  for (const [round, n] of killAfter.entries()) {
    // Small compaction threshold, so rounds crash before, during and after compactions.
    const result = await crashRound(dataDir, round * 1_000_000, n, 48 * 1024)
    t.equal(result.signal, 'SIGKILL', `round ${round}: the writer was killed, not stopped (stderr: ${result.stderr.slice(0, 2000)})`)
    t.ok(result.acked.size >= n, `round ${round}: ${result.acked.size} inserts acknowledged before the kill`)
    for (const [i, id] of result.acked) acked.set(i, id)
  }

  const warnings: unknown[] = []
  const noop = (): void => {}
  const logger: EngineLogger = { debug: noop, info: noop, error: noop, warn: (obj, msg) => { warnings.push({ obj, msg }) } }
  const journaled = await openJournaledStore({ dataDir, logger, createStore: durability => new MemoryStore({ durability }) })
  t.teardown(() => journaled.close())
  t.ok(warnings.some(w => JSON.stringify(w).includes('stale')), 'the dead writer\'s lock was taken over with a warning')

  const docs = journaled.store.find('parley', 'messages', {})
  const byIndex = new Map(docs.map(d => [(d.seq as { value: number }).value, d]))
  let missing = 0
  let damaged = 0
  for (const [i, idHex] of acked) {
    const doc = byIndex.get(i)
    if (doc === undefined) { missing++; continue }
    const expected = expectedMessage(i)
    if (expected._id.toHexString() !== idHex || !Buffer.from(serialize(doc)).equals(serialize(expected))) damaged++
  }
  t.equal(missing, 0, `all ${acked.size} acknowledged documents are present`)
  t.equal(damaged, 0, 'and byte-identical to what was inserted')

  // Unacknowledged extras are allowed (in flight at the kill) but must be whole documents, and only
  // the few in flight: 4 insert loops per round.
  const extras = docs.filter(d => !acked.has((d.seq as { value: number }).value))
  t.ok(extras.length <= 4 * killAfter.length, `${extras.length} unacknowledged documents were in flight`)
  for (const doc of extras) {
    const i = (doc.seq as { value: number }).value
    t.ok(Buffer.from(serialize(doc)).equals(serialize(expectedMessage(i))), `unacknowledged document ${i} is intact`)
  }

  const files = await readdir(dataDir)
  t.ok(files.some(f => f.startsWith('snapshot-')), `compactions happened (files: ${files.join(', ')})`)
})
