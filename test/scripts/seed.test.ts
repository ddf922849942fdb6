// `npm run seed` as a new user runs it: demo users, a direct conversation with history and an image, a group; twice in
// a row stores nothing new; without a server it seeds the data directory itself; it refuses production and leaves an
// account with another password alone.
import t from 'tap'
import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { DEMO_GROUP, DEMO_PASSWORD } from '../../scripts/seed.js'
import { buildAuthApp, listen } from '../helpers/build-app.js'
import { freePort } from '../helpers/redis-server.js'
import { api, request } from '../helpers/rest.js'
import { login } from '../helpers/users.js'

const root = new URL('../../', import.meta.url).pathname
const execute = promisify(execFile)

/** Runs the seed script; resolves with its exit code and output. */
async function runSeed (env: NodeJS.ProcessEnv): Promise<{ code: number, stdout: string, stderr: string }> {
  try {
    const { stdout, stderr } = await execute(process.execPath, ['--import', 'tsx', join(root, 'scripts/seed.ts')], {
      // DATA_DIR: never the checkout's ./data (a run that seeds in-process names its own).
      cwd: root, env: { ...process.env, NODE_V8_COVERAGE: '', _TAPJS_PROCESSINFO_COVERAGE_: '0', LOG_LEVEL: 'warn', DATA_DIR: ':memory:', ...env }, timeout: 60_000
    })
    return { code: 0, stdout, stderr }
  } catch (error) {
    const failed = error as { code: number, stdout: string, stderr: string }
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr }
  }
}

t.test('seeds through a running server, and a second run stores nothing new', async t => {
  const app = await buildAuthApp(t)
  const url = await listen(app)
  const first = await runSeed({ SEED_URL: url, NODE_ENV: 'development' })
  t.equal(first.code, 0, first.stderr)
  t.match(first.stdout, /Seeded: 3 new users, 9 new messages, the group/)
  t.match(first.stdout, new RegExp(`Open ${url} and log in as alice, bob or carol with the password ${DEMO_PASSWORD}`))
  const second = await runSeed({ SEED_URL: url, NODE_ENV: 'development' })
  t.equal(second.code, 0, second.stderr)
  t.match(second.stdout, /Seeded: 0 new users, 0 new messages \(/)

  const alice = await login(app, 'alice', DEMO_PASSWORD)
  const list = (await api(app, alice)('GET', '/api/conversations')).json().items as Array<{ id: string, type: string, name?: string, members: unknown[] }>
  t.equal(list.length, 2, 'one direct conversation and one group, not two of each')
  const group = list.find(c => c.type === 'group')
  t.equal(group?.name, DEMO_GROUP)
  t.equal(group?.members.length, 3)
  const direct = list.find(c => c.type === 'direct') as { id: string }
  const history = (await api(app, alice)('GET', `/api/conversations/${direct.id}/messages`)).json().items as Array<{ seq: number, body: string, attachments: Array<{ id: string, mimeType: string }> }>
  t.same(history.map(m => m.seq), [1, 2, 3, 4, 5, 6], 'the history once, gapless')
  const image = history[5].attachments[0]
  t.equal(image.mimeType, 'image/png')
  const bob = await login(app, 'bob', DEMO_PASSWORD)
  const bytes = await app.inject({ method: 'GET', url: `/api/attachments/${image.id}`, headers: { authorization: `Bearer ${bob.accessToken}` } })
  t.equal(bytes.statusCode, 200, 'bob can open the image')
  t.equal(bytes.rawPayload.subarray(1, 4).toString('latin1'), 'PNG')
  const groupHistory = (await api(app, bob)('GET', `/api/conversations/${group?.id ?? ''}/messages`)).json().items as unknown[]
  t.equal(groupHistory.length, 3)
})

t.test('without a server it seeds the data directory itself', async t => {
  const dataDir = mkdtempSync(join(tmpdir(), 'parley-seed-'))
  t.teardown(() => { rmSync(dataDir, { recursive: true, force: true }) })
  const closed = `http://127.0.0.1:${await freePort()}`
  const run = await runSeed({ SEED_URL: closed, NODE_ENV: 'development', DATA_DIR: dataDir, DB_THREAD: 'false' })
  t.equal(run.code, 0, run.stderr)
  t.match(run.stdout, /No server answered at .*; seeding .*parley-seed-.* directly/)
  t.match(run.stdout, /Start the server \(npm start\), open http:\/\/localhost:\d+ and log in as alice/)
  const app = await buildAuthApp(t, { DATA_DIR: dataDir })
  const carol = await login(app, 'carol', DEMO_PASSWORD)
  const list = (await api(app, carol)('GET', '/api/conversations')).json().items as Array<{ name?: string }>
  t.same(list.map(c => c.name), [DEMO_GROUP], 'carol is in the group')
})

t.test('refuses production, another machine without --remote, and an existing account with another password', async t => {
  const app = await buildAuthApp(t)
  const url = await listen(app)
  const production = await runSeed({ SEED_URL: url, NODE_ENV: 'production', JWT_SECRET: 'Zq8vR2mW7nL4xK9pT3yB6cF1hJ5dG0sA-seed' })
  t.equal(production.code, 1)
  t.match(production.stderr, /refuses NODE_ENV=production/)
  const none = await request(app, { method: 'POST', url: '/api/auth/login', payload: { login: 'alice', password: DEMO_PASSWORD } })
  t.equal(none.statusCode, 401, 'nothing was created')

  const remote = await runSeed({ SEED_URL: 'http://chat.example.com:3000', NODE_ENV: 'development' })
  t.equal(remote.code, 1)
  t.match(remote.stderr, /SEED_URL names another machine \(chat\.example\.com\).*add --remote/, 'another machine takes --remote')

  const taken = await request(app, { method: 'POST', url: '/api/auth/register', payload: { username: 'bob', email: 'someone@example.com', password: 'a different password' } })
  t.equal(taken.statusCode, 201)
  const refused = await runSeed({ SEED_URL: url, NODE_ENV: 'development' })
  t.equal(refused.code, 1)
  t.match(refused.stderr, /the account bob exists with another password; the seed leaves it alone/)
  t.equal((await login(app, 'bob', 'a different password')).accessToken.length > 0, true, "bob's own password still works")
})
