/**
 * The first admin: from ADMIN_* at start, and `npm run create-admin` (the real script, in a child process, on a
 * data directory the test app then opens), plus the requireRole guard.
 */
import t from 'tap'
import { execFile } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import { buildApp } from '../../../src/app.js'
import { buildAuthApp, FAST_ARGON2, TEST_SECRET, testConfig } from '../../helpers/build-app.js'
import { bearer } from '../../helpers/rest.js'
import { login, register, signUp } from '../../helpers/users.js'

const run = promisify(execFile)
const ROOT = path.resolve(import.meta.dirname, '../../..')
const EXTERNAL = process.env.MONGODB_URL !== undefined && process.env.MONGODB_URL !== ''
const NEEDS_DATA_DIR = { skip: EXTERNAL ? 'uses the embedded engine on a data directory' : false }
const ADMIN = { ADMIN_USERNAME: 'root', ADMIN_EMAIL: 'root@example.com', ADMIN_PASSWORD: 'root password' }

t.test('ADMIN_* at start creates that admin when missing', async t => {
  const app = await buildAuthApp(t, ADMIN)
  const res = await app.inject({ method: 'POST', url: '/api/auth/login', payload: { login: 'root', password: 'root password' } })
  t.equal(res.statusCode, 200)
  t.equal(res.json().user.role, 'admin')
  t.equal(res.json().user.email, 'root@example.com')
})

t.test('ADMIN_* at start never promotes an existing account of that name', NEEDS_DATA_DIR, async t => {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'parley-admin-'))
  t.teardown(() => rm(dataDir, { recursive: true, force: true }))
  const config = testConfig({ ...FAST_ARGON2, DATA_DIR: dataDir })
  const first = await buildApp(config)
  // `root` itself is reserved (only an admin may have it), so the operator picked an ordinary name.
  await register(first, { username: 'Chief', email: 'squatter@example.com', password: 'squatter password' })
  await first.close()

  const second = await buildApp(testConfig({ ...FAST_ARGON2, DATA_DIR: dataDir, ...ADMIN, ADMIN_USERNAME: 'chief' }))
  t.teardown(() => second.close())
  await second.ready()
  const res = await second.inject({ method: 'POST', url: '/api/auth/login', payload: { login: 'chief', password: 'squatter password' } })
  t.equal(res.json().user.role, 'user', 'whoever registered the name first is not made admin')
  t.equal(await second.models.User.countDocuments(), 1)
})

t.test('npm run create-admin creates, then promotes, and refuses bad input', NEEDS_DATA_DIR, async t => {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'parley-admin-'))
  t.teardown(() => rm(dataDir, { recursive: true, force: true }))
  // _TAPJS_PROCESSINFO_COVERAGE_=0: the tsx-run script must not record coverage; merged by URL with the tests' it
  // corrupts the report (files it loads show as 100% and drop out of the table).
  const env = {
    ...process.env, ...FAST_ARGON2, NODE_ENV: 'test', LOG_LEVEL: 'silent', DATA_DIR: dataDir, JWT_SECRET: TEST_SECRET,
    _TAPJS_PROCESSINFO_COVERAGE_: '0'
  }
  const createAdmin = async (...args: string[]) => await run(process.execPath, ['--import', 'tsx', 'scripts/create-admin.ts', ...args], { cwd: ROOT, env })

  const created = await createAdmin('--username', 'Boss', '--email', 'boss@example.com', '--password', 'boss password')
  t.match(created.stdout, /^created admin: Boss <boss@example.com> \([0-9a-f]{24}\)/)
  const again = await createAdmin('--username', 'boss', '--email', 'BOSS@example.com', '--password', 'boss password')
  t.match(again.stdout, /^already an admin: Boss/)

  const bad = await createAdmin('--username', 'x', '--email', 'nope', '--password', 'short').then(() => null, (error: { code: number, stderr: string }) => error)
  t.equal(bad?.code, 1)
  t.match(bad?.stderr, /--username.*--email.*--password/)

  // An ordinary account, then promoted by the script.
  let app = await buildApp(testConfig({ ...FAST_ARGON2, DATA_DIR: dataDir }))
  await register(app, { username: 'dana', email: 'dana@example.com', password: 'dana password' })
  const before = await login(app, 'dana', 'dana password')
  await app.close()
  const promoted = await createAdmin('--username', 'dana', '--email', 'dana@example.com', '--password', 'ignored password')
  t.match(promoted.stdout, /^promoted to admin: dana/)

  app = await buildApp(testConfig({ ...FAST_ARGON2, DATA_DIR: dataDir }))
  t.teardown(() => app.close())
  await app.ready()
  t.equal((await app.inject({ method: 'GET', url: '/api/users/me', headers: bearer(before.accessToken) })).statusCode, 401,
    'old sessions end, so the role in tokens is never stale')
  const res = await app.inject({ method: 'POST', url: '/api/auth/login', payload: { login: 'dana', password: 'dana password' } })
  t.equal(res.json().user.role, 'admin', 'promoted, password unchanged')
  t.equal((await app.inject({ method: 'POST', url: '/api/auth/login', payload: { login: 'boss', password: 'boss password' } })).json().user.role, 'admin')
})

t.test('requireRole: 403 for other roles, 401 without a token', async t => {
  const app = await buildApp(testConfig({ ...FAST_ARGON2, ...ADMIN }))
  t.teardown(() => app.close())
  app.register(async scope => {
    scope.addHook('onRequest', scope.authenticate)
    scope.get('/t/admin-only', { preHandler: scope.requireRole('admin') }, async request => ({ userId: request.auth.userId }))
  })
  await app.ready()
  const user = await signUp(app)
  const admin = await login(app, 'root', 'root password')
  let res = await app.inject({ method: 'GET', url: '/t/admin-only', headers: bearer(user.accessToken) })
  t.equal(res.statusCode, 403)
  t.equal(res.json().code, 'FORBIDDEN')
  res = await app.inject({ method: 'GET', url: '/t/admin-only', headers: bearer(admin.accessToken) })
  t.equal(res.statusCode, 200)
  res = await app.inject({ method: 'GET', url: '/t/admin-only' })
  t.equal(res.statusCode, 401)
})

t.test('ensureAdmin: promotes in-process, refuses a username and an email of two different accounts', async t => {
  const app = await buildAuthApp(t)
  const a = await register(app)
  const b = await register(app)
  await t.rejects(app.users.ensureAdmin({ username: a.username, email: b.email, password: 'whatever password' }, { promote: true }),
    { statusCode: 409, code: 'ADMIN_CONFLICT' })
  const kept = await app.users.ensureAdmin({ username: a.username, email: a.email, password: 'whatever password' }, { promote: false })
  t.equal(kept.action, 'unchanged')
  t.equal(kept.user.role, 'user')
  const promoted = await app.users.ensureAdmin({ username: a.username.toUpperCase(), email: 'unused@example.com', password: 'whatever password' }, { promote: true })
  t.equal(promoted.action, 'promoted')
  t.equal(promoted.user.role, 'admin')
  t.equal((await app.users.ensureAdmin({ username: 'x-new', email: b.email, password: 'whatever password' }, { promote: true })).action, 'promoted', 'found by email')
})
