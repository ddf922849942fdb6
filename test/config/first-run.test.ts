// What a new user meets on the first `npm start`: the token secret kept in DATA_DIR across restarts in development
// (mode 0600, refused when others can read it, never in production or tests or with DATA_DIR=:memory:), the log
// format chosen for the terminal, and --help listing every variable of .env.example from the schema.
import t from 'tap'
import { execFile } from 'node:child_process'
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { configHelp, envExampleNotes, wantsHelp } from '../../src/config/config-help.js'
import { EnvSchema } from '../../src/config/config.schema.js'
import { SECRET_FILE, withDevelopmentSecret } from '../../src/config/development-secret.js'
import { ConfigError, loadConfig } from '../../src/config/load-config.js'
import { chosenLogFormat, loggerOptions } from '../../src/config/log-format.js'
import { FAST_ARGON2 } from '../helpers/build-app.js'
import { startParleyProcess } from '../helpers/processes.js'
import { signUp } from '../helpers/users.js'

const root = new URL('../../', import.meta.url).pathname
const run = promisify(execFile)

function dataDir (t: { teardown: (fn: () => unknown) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'parley-first-run-'))
  t.teardown(() => { rmSync(dir, { recursive: true, force: true }) })
  return dir
}

t.test('development: a secret is made once, kept with mode 0600, and read back by the next start', async t => {
  const dir = dataDir(t)
  const first = withDevelopmentSecret(loadConfig({ NODE_ENV: 'development', DATA_DIR: dir }))
  t.equal(first.source, 'created')
  t.equal(first.file, join(dir, SECRET_FILE))
  t.equal(statSync(join(dir, SECRET_FILE)).mode & 0o777, 0o600, 'only the owner can read it')
  t.equal(first.config.jwtSecretGenerated, false)
  t.ok(first.config.jwtSecret.length >= 32)
  const second = withDevelopmentSecret(loadConfig({ NODE_ENV: 'development', DATA_DIR: dir }))
  t.equal(second.source, 'kept')
  t.equal(second.config.jwtSecret, first.config.jwtSecret, 'the same secret after a restart')
  t.equal(readFileSync(join(dir, SECRET_FILE), 'utf8').trim(), first.config.jwtSecret)
})

t.test('the kept secret is refused when others can read it or it is weak', async t => {
  const dir = dataDir(t)
  withDevelopmentSecret(loadConfig({ NODE_ENV: 'development', DATA_DIR: dir }))
  chmodSync(join(dir, SECRET_FILE), 0o644)
  t.throws(() => withDevelopmentSecret(loadConfig({ NODE_ENV: 'development', DATA_DIR: dir })), { name: 'ConfigError', message: /readable by other users \(mode 644\)/ })
  writeFileSync(join(dir, SECRET_FILE), 'short\n', { mode: 0o600 })
  chmodSync(join(dir, SECRET_FILE), 0o600)
  t.throws(() => withDevelopmentSecret(loadConfig({ NODE_ENV: 'development', DATA_DIR: dir })), /shorter than 32 characters; delete the file/)
})

t.test('never outside development with data on disk: JWT_SECRET wins, production requires it, tests and :memory: stay random', async t => {
  const dir = dataDir(t)
  const given = 'Zq8vR2mW7nL4xK9pT3yB6cF1hJ5dG0sA-given-secret'
  t.same(withDevelopmentSecret(loadConfig({ NODE_ENV: 'development', DATA_DIR: dir, JWT_SECRET: given })).config.jwtSecret, given)
  t.throws(() => loadConfig({ NODE_ENV: 'production', DATA_DIR: dir }), ConfigError, 'production still requires JWT_SECRET')
  t.equal(withDevelopmentSecret(loadConfig({ NODE_ENV: 'test', DATA_DIR: dir })).source, 'random')
  const memory = withDevelopmentSecret(loadConfig({ NODE_ENV: 'development', DATA_DIR: ':memory:' }))
  t.equal(memory.source, 'random')
  t.not(withDevelopmentSecret(loadConfig({ NODE_ENV: 'development', DATA_DIR: ':memory:' })).config.jwtSecret, memory.config.jwtSecret)
  t.throws(() => statSync(join(dir, SECRET_FILE)), { code: 'ENOENT' }, 'no file was written by any of these')
})

t.test('a token survives a restart of a development server without JWT_SECRET', async t => {
  const dir = dataDir(t)
  const env = { NODE_ENV: 'development', DATA_DIR: dir, JWT_SECRET: '', LOG_FORMAT: 'json', LOG_LEVEL: 'info', ...FAST_ARGON2 }
  const first = await startParleyProcess(t, env)
  const { accessToken } = await signUp(first, 'alice')
  t.match(first.output(), /generated a development secret and kept it in the data directory/)
  t.equal(await first.stop(), 0)
  const second = await startParleyProcess(t, env)
  t.match(second.output(), /using the development secret kept in the data directory/)
  const me = await fetch(`${second.url}/api/users/me`, { headers: { authorization: `Bearer ${accessToken}` } })
  t.equal(me.status, 200, 'the access token from before the restart is still valid')
})

t.test('log format: text in development on a terminal, JSON otherwise or when asked', async t => {
  const development = loadConfig({ NODE_ENV: 'development' })
  t.equal(chosenLogFormat(development, true, true), 'pretty')
  t.equal(chosenLogFormat(development, false, true), 'json', 'piped output stays JSON')
  t.equal(chosenLogFormat(development, true, false), 'json', 'without pino-pretty installed')
  t.equal(chosenLogFormat(loadConfig({ NODE_ENV: 'production', JWT_SECRET: 'Zq8vR2mW7nL4xK9pT3yB6cF1hJ5dG0sA-prod' }), true, true), 'json', 'production stays JSON')
  t.equal(chosenLogFormat(loadConfig({ NODE_ENV: 'development', LOG_FORMAT: 'json' }), true, true), 'json')
  t.equal(chosenLogFormat(loadConfig({ NODE_ENV: 'production', LOG_FORMAT: 'pretty', JWT_SECRET: 'Zq8vR2mW7nL4xK9pT3yB6cF1hJ5dG0sA-prod' }), false, true), 'pretty')
  t.match(loggerOptions(development, true, true), { level: 'info', transport: { target: 'pino-pretty' } })
  t.same(loggerOptions(development, false, true), { level: 'info' })
  t.throws(() => loadConfig({ LOG_FORMAT: 'xml' }), /LOG_FORMAT/)
})

t.test('LOG_FORMAT=pretty: a real server writes readable lines, not JSON', async t => {
  const server = await startParleyProcess(t, { LOG_FORMAT: 'pretty', LOG_LEVEL: 'info', DATA_DIR: ':memory:', JWT_SECRET: 'Zq8vR2mW7nL4xK9pT3yB6cF1hJ5dG0sA-pretty' })
  const line = server.output().split('\n').find(l => l.includes('Parley listening on'))
  t.ok(line, 'the listening line is there')
  t.match(line, /INFO/)
  t.notMatch(line, /^\{/, 'not a JSON object')
})

t.test('--help lists every variable of .env.example with its default, from the schema', async t => {
  t.ok(wantsHelp(['--help']))
  t.ok(wantsHelp(['-h']))
  t.notOk(wantsHelp([]))
  const example = readFileSync(join(root, '.env.example'), 'utf8')
  const notes = envExampleNotes(example)
  t.equal(notes.get('PORT'), 'HTTP + Socket.IO port and interface.')
  t.equal(notes.get('HOST'), 'HTTP + Socket.IO port and interface.', 'variables listed together share the comment')
  const help = configHelp(EnvSchema, 'usage', notes)
  for (const name of example.matchAll(/^([A-Z0-9_]+)=/gm)) t.match(help, new RegExp(`^  ${name[1]}  \\(`, 'm'), `${name[1]} is listed`)
  t.match(help, /^ {2}PORT {2}\(default "3000"; whole number 0\.\.65535\)$/m)
  t.match(help, /^ {2}LOG_FORMAT {2}\(default "auto"; auto \| json \| pretty\)$/m)
  t.match(help, /^ {2}MONGODB_URL {2}\(unset by default; /m)

  // Children must not write coverage into tap's report (a second compilation of the same files garbles it).
  const env = { ...process.env, NODE_V8_COVERAGE: '', _TAPJS_PROCESSINFO_COVERAGE_: '0' }
  const { stdout } = await run(process.execPath, ['--import', 'tsx', join(root, 'src/server.ts'), '--help'], { cwd: root, env: { ...env, PORT: 'not-a-port' } })
  t.equal(stdout, configHelp(EnvSchema, stdout.split('\n')[0], notes), 'the server prints it and exits, whatever the environment holds')
  const db = await run(process.execPath, ['--import', 'tsx', join(root, 'scripts/db.ts'), '--help'], { cwd: root, env })
  t.match(db.stdout, /^ {2}DB_PORT {2}\(default "27017"/m)
  t.notMatch(db.stdout, /JWT_SECRET/, 'npm run db lists only what it reads')
})
