/**
 * Real processes for cluster tests: the embedded store served alone (`scripts/db.ts`, as `npm run db`) and Parley
 * instances (`src/server.ts`, as `npm start` runs it), each on its own loopback port, killed in the test's teardown
 * (and when this process exits). `kill()` is `kill -9`; `stop()` is SIGTERM and waits for the exit code.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { FAST_ARGON2, type TeardownHost } from './build-app.js'
import { freePort } from './redis-server.js'

const root = fileURLToPath(new URL('../../', import.meta.url))
const running = new Set<ChildProcess>()
process.once('exit', () => { for (const child of running) child.kill('SIGKILL') })

export interface TestProcess {
  child: ChildProcess
  /** What it printed so far (stdout and stderr), for failure messages. */
  output: () => string
  /** kill -9, resolves on exit. */
  kill: () => Promise<void>
  /** SIGTERM, resolves with the exit code. */
  stop: () => Promise<number | null>
}

function launch (t: TeardownHost, script: string, env: NodeJS.ProcessEnv): TestProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', join(root, script)], {
    cwd: root,
    // Children must not write coverage into tap's report (they are not instrumented the same way).
    env: { ...process.env, _TAPJS_PROCESSINFO_COVERAGE_: '0', NODE_V8_COVERAGE: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  running.add(child)
  let output = ''
  child.stdout?.on('data', (chunk: Buffer) => { output += chunk.toString() })
  child.stderr?.on('data', (chunk: Buffer) => { output += chunk.toString() })
  const exited = new Promise<number | null>(resolve => child.once('exit', code => { running.delete(child); resolve(code) }))
  const alive = (): boolean => child.exitCode === null && child.signalCode === null
  const kill = async (): Promise<void> => {
    if (alive()) child.kill('SIGKILL')
    await exited
  }
  t.teardown(kill)
  return {
    child,
    output: () => output,
    kill,
    stop: async () => {
      if (alive()) child.kill('SIGTERM')
      return await exited
    }
  }
}

async function waitFor<T> (what: string, probe: () => Promise<T | undefined>, proc: TestProcess, timeoutMs = 30_000): Promise<T> {
  const until = Date.now() + timeoutMs
  while (Date.now() < until) {
    if (proc.child.exitCode !== null) throw new Error(`${what}: exited early (${proc.child.exitCode}):\n${proc.output()}`)
    const found = await probe().catch(() => undefined)
    if (found !== undefined) return found
    await new Promise(resolve => setTimeout(resolve, 100))
  }
  throw new Error(`${what}: not ready after ${timeoutMs} ms:\n${proc.output()}`)
}

/** `npm run db` on a free port with a fresh data directory; resolves with its MONGODB_URL (database `parley`). */
export async function startDbProcess (t: TeardownHost): Promise<TestProcess & { url: string }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'parley-db-'))
  const port = await freePort()
  const proc = launch(t, 'scripts/db.ts', { DB_PORT: String(port), DATA_DIR: dataDir, LOG_LEVEL: 'warn' })
  t.teardown(() => { rmSync(dataDir, { recursive: true, force: true }) })
  const url = await waitFor('db process', async () => /MONGODB_URL=(\S+)/.exec(proc.output())?.[1], proc)
  return { ...proc, url: url.replace('/?', '/parley?') }
}

export interface ParleyProcess extends TestProcess {
  port: number
  /** `http://127.0.0.1:<port>` */
  url: string
}

/**
 * A Parley instance (`src/server.ts`) on a free port with the given environment; resolves once /health answers.
 * `port` starts it on that port instead, e.g. an instance's own after `kill()`, so its clients reconnect to it.
 */
export async function startParleyProcess (t: TeardownHost, env: NodeJS.ProcessEnv, options: { port?: number } = {}): Promise<ParleyProcess> {
  const port = options.port ?? await freePort()
  const proc = launch(t, 'src/server.ts', {
    NODE_ENV: 'test', HOST: '127.0.0.1', PORT: String(port), LOG_LEVEL: 'warn',
    ...FAST_ARGON2,
    ...env
  })
  const url = `http://127.0.0.1:${port}`
  await waitFor(`parley on ${port}`, async () => (await fetch(`${url}/health`)).ok ? true : undefined, proc)
  return { ...proc, port, url }
}
