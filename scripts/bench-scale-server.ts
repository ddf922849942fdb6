/**
 * The server side of `npm run bench:scale` (scripts/bench-scale.ts), one child process per server so each reports
 * its own memory and event-loop lag: `--target parley` runs the real app (bench-common's startBenchApp, embedded
 * engine on a temporary durable DATA_DIR, limits off, cheap argon2), `--target relay` the bare Socket.IO relay
 * (startRelayServer). Both run in the same harness (tsx, this file), so their baselines match.
 * Commands over IPC (bench-common's serveParent):
 *  - `setup {users}`: starts the server; Parley registers and logs in `users` accounts and opens a direct
 *    conversation per pair (user 2k with 2k + 1); answers the URL, a token per user and the conversation ids;
 *  - `stats {settle}`: RSS, V8 heap and the sockets the server holds (`settle`: after two full collections first);
 *  - `lagReset` / `lagRead`: the event-loop lag since the last reset.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { loopLagMonitor, option, serveParent, startBenchApp, startRelayServer } from './bench-common.js'

const TARGET = option('target', 'relay')
/** Registrations (register + login) and conversation opens in flight at once. */
const SETUP_CONCURRENCY = 25

setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void
const lag = loopLagMonitor()

export interface ServerSetup { url: string, tokens: string[], conversationIds: string[], setupSeconds: number }
export interface ServerStats { rss: number, heapUsed: number, heapTotal: number, sockets: number }

let socketCount = (): number => 0
let close = async (): Promise<void> => {}

/** `count` tasks, `concurrency` at a time, results in task order. */
async function pooled<T> (count: number, concurrency: number, task: (index: number) => Promise<T>): Promise<T[]> {
  const results: T[] = new Array(count)
  let next = 0
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, async () => {
    while (next < count) {
      const index = next++
      results[index] = await task(index)
    }
  }))
  return results
}

async function setupParley (users: number): Promise<ServerSetup> {
  const started = performance.now()
  const dataDir = mkdtempSync(join(tmpdir(), 'parley-bench-scale-'))
  // Tokens outlive the run (the default 15 min would end a long one); nothing else differs from the other benches.
  const { app, url, user } = await startBenchApp(dataDir, { ACCESS_TOKEN_TTL: '2h' })
  socketCount = () => app.realtime.io.engine.clientsCount
  close = async () => {
    await app.close()
    rmSync(dataDir, { recursive: true, force: true })
  }
  const accounts = await pooled(users, SETUP_CONCURRENCY, async i => await user(`scale${i}`))
  const conversationIds = await pooled(Math.floor(users / 2), SETUP_CONCURRENCY, async k => {
    const opened = await app.inject({
      method: 'POST', url: '/api/conversations', headers: { authorization: `Bearer ${accounts[2 * k].token}` }, payload: { type: 'direct', userId: accounts[2 * k + 1].id }
    })
    if (opened.statusCode !== 201) throw new Error(`open conversation failed: ${opened.body}`)
    return opened.json().id as string
  })
  return { url, tokens: accounts.map(a => a.token), conversationIds, setupSeconds: (performance.now() - started) / 1000 }
}

async function setupRelay (users: number): Promise<ServerSetup> {
  const relay = await startRelayServer()
  socketCount = () => relay.io.engine.clientsCount
  close = relay.close
  // The relay reads the room from the handshake's conversationId and ignores the token.
  const conversationIds = Array.from({ length: Math.floor(users / 2) }, (_, k) => `pair${k}`)
  return { url: relay.url, tokens: new Array<string>(users).fill('none'), conversationIds, setupSeconds: 0 }
}

async function stats (settle: boolean): Promise<ServerStats> {
  // Twice: finalizers free more on the second collection.
  if (settle) {
    for (let i = 0; i < 2; i++) {
      gc()
      await new Promise(resolve => setTimeout(resolve, 200))
    }
  }
  const memory = process.memoryUsage()
  return { rss: memory.rss, heapUsed: memory.heapUsed, heapTotal: memory.heapTotal, sockets: socketCount() }
}

type Command =
  | { kind: 'setup', users: number }
  | { kind: 'stats', settle: boolean }
  | { kind: 'lagReset' }
  | { kind: 'lagRead' }

serveParent(async (command: Command) => {
  switch (command.kind) {
    case 'setup': return TARGET === 'parley' ? await setupParley(command.users) : await setupRelay(command.users)
    case 'stats': return await stats(command.settle)
    case 'lagReset': lag.reset(); return null
    case 'lagRead': return lag.read()
  }
}, async () => { await close() })
