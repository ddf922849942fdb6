import t from 'tap'
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { createInterface } from 'node:readline'
import mongoose from 'mongoose'

const script = new URL('../../scripts/db.ts', import.meta.url).pathname

/** Starts `scripts/db.ts` as `npm run db` would (minus the build) and resolves with the URL it prints. */
function startDb (dataDir: string): Promise<{ child: ChildProcess, url: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env, DB_PORT: '0', DATA_DIR: dataDir, LOG_LEVEL: 'warn' }
  // The child runs through tsx, not tap's loader: its coverage (tap's processinfo, inherited through NODE_OPTIONS)
  // would be merged by URL with the tests' and corrupt the report, so it records none.
  env._TAPJS_PROCESSINFO_COVERAGE_ = '0'
  const child = spawn(process.execPath, ['--import', 'tsx', script], {
    env,
    stdio: ['ignore', 'pipe', 'inherit']
  })
  return new Promise((resolve, reject) => {
    child.once('exit', code => reject(new Error(`db exited with ${code} before printing its URL`)))
    createInterface({ input: child.stdout! }).on('line', line => {
      const match = /^MONGODB_URL=(mongodb:\/\/\S+)$/.exec(line)
      if (match !== null) resolve({ child, url: match[1] })
    })
  })
}

function exitCode (child: ChildProcess): Promise<number | null> {
  return new Promise(resolve => child.once('exit', code => resolve(code)))
}

t.test('npm run db serves the embedded engine to other processes and keeps the data across restarts', async t => {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'parley-db-'))
  t.teardown(() => rm(dataDir, { recursive: true, force: true }))

  const first = await startDb(dataDir)
  t.teardown(() => { first.child.kill('SIGKILL') })
  t.match(first.url, /^mongodb:\/\/127\.0\.0\.1:\d+\//, 'binds to loopback by default and prints its URL')
  const client = new mongoose.mongo.MongoClient(first.url)
  await client.db('shared').collection('notes').insertOne({ text: 'hello from another process' })
  await client.close()

  const exited = exitCode(first.child)
  first.child.kill('SIGTERM')
  t.equal(await exited, 0, 'SIGTERM shuts it down cleanly')

  const second = await startDb(dataDir)
  t.teardown(() => { second.child.kill('SIGKILL') })
  const again = new mongoose.mongo.MongoClient(second.url)
  const note = await again.db('shared').collection('notes').findOne({})
  t.equal(note?.text, 'hello from another process', 'the data survived the restart')
  await again.close()
  const exitedAgain = exitCode(second.child)
  second.child.kill('SIGTERM')
  t.equal(await exitedAgain, 0)
})
