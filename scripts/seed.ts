/**
 * `npm run seed`: demo data to look at on a fresh install. Three users with known passwords (alice, bob, carol), a
 * direct conversation between alice and bob with some history and an image, and a group of the three. Everything
 * goes through the public REST API, so the data is exactly what users would have made. Idempotent: accounts that
 * exist are logged into, and every message carries a fixed clientMsgId, so a second run stores nothing new.
 *
 * Where: the server at SEED_URL (default http://127.0.0.1:$PORT) when it answers; otherwise the app is started here
 * on the same configuration as `npm start` (DATA_DIR or MONGODB_URL), seeded and stopped. Refuses NODE_ENV=production,
 * and a SEED_URL on another machine unless `--remote` is given.
 */
import { pathToFileURL } from 'node:url'
import { withDevelopmentSecret } from '../src/config/development-secret.js'
import { ConfigError, loadConfig } from '../src/config/load-config.js'
import { solidPng } from './solid-png.js'

export const DEMO_PASSWORD = 'parley-demo-password'
export const DEMO_GROUP = 'Parley demo'
const USERS = [
  { username: 'alice', firstName: 'Alice', lastName: 'Example' },
  { username: 'bob', firstName: 'Bob', lastName: 'Example' },
  { username: 'carol', firstName: 'Carol', lastName: 'Example' }
] as const
type Name = typeof USERS[number]['username']

const DIRECT_HISTORY: Array<[Name, string]> = [
  ['alice', 'Hi Bob! This is Parley, a realtime chat backend.'],
  ['bob', 'Hi Alice. Messages arrive over Socket.IO and are stored with a gapless seq.'],
  ['alice', 'Open this chat in two browsers: typing, delivered and read ticks show up live.'],
  ['bob', 'And the history is paged over REST: GET /api/conversations/:id/messages.'],
  ['alice', 'Here is a picture, sent as an attachment:']
]
const GROUP_HISTORY: Array<[Name, string]> = [
  ['alice', 'Welcome to the demo group, Bob and Carol.'],
  ['carol', 'Thanks! Groups have owners, admins and members.'],
  ['bob', 'Try adding someone from the group menu.']
]

class SeedError extends Error {}

const LOOPBACK = /^(localhost|127(\.\d{1,3}){3}|\[::1\]|::1)$/

interface Session { id: string, token: string }

/** A JSON call; throws a SeedError naming the route unless the status is one of `ok`. */
async function call (base: string, method: string, path: string, options: { token?: string, body?: unknown, form?: FormData, ok?: number[] } = {}): Promise<{ status: number, json: any }> {
  const headers: Record<string, string> = {}
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`
  let body: string | FormData | undefined = options.form
  if (options.body !== undefined) {
    headers['content-type'] = 'application/json'
    body = JSON.stringify(options.body)
  }
  const res = await fetch(base + path, { method, headers, body })
  const text = await res.text()
  const json = text === '' ? null : JSON.parse(text)
  if (!(options.ok ?? [200, 201]).includes(res.status)) throw new SeedError(`${method} ${path} answered ${res.status}: ${text}`)
  return { status: res.status, json }
}

/** Registers the user, or logs into the account that exists; false in `created` when it did. */
async function account (base: string, user: typeof USERS[number]): Promise<Session & { created: boolean }> {
  const registered = await call(base, 'POST', '/api/auth/register', {
    body: { ...user, email: `${user.username}@example.com`, password: DEMO_PASSWORD }, ok: [201, 409]
  })
  const login = await call(base, 'POST', '/api/auth/login', { body: { login: user.username, password: DEMO_PASSWORD }, ok: [200, 401] })
  if (login.status === 401) throw new SeedError(`the account ${user.username} exists with another password; the seed leaves it alone`)
  return { id: login.json.user.id, token: login.json.accessToken, created: registered.status === 201 }
}

async function sendAll (base: string, users: Record<Name, Session>, conversationId: string, history: Array<[Name, string]>, tag: string): Promise<number> {
  let stored = 0
  for (const [index, [from, body]] of history.entries()) {
    const sent = await call(base, 'POST', `/api/conversations/${conversationId}/messages`, {
      token: users[from].token, body: { body, clientMsgId: `seed-${tag}-${index}` }
    })
    if (sent.status === 201) stored++
  }
  return stored
}

/** Seeds the server at `base`; returns what it did, for the summary. */
export async function seed (base: string): Promise<{ usersCreated: number, messagesStored: number, groupCreated: boolean }> {
  const sessions = {} as Record<Name, Session>
  let usersCreated = 0
  for (const user of USERS) {
    const session = await account(base, user)
    sessions[user.username] = session
    if (session.created) usersCreated++
  }
  const { alice, bob, carol } = sessions
  const direct = await call(base, 'POST', '/api/conversations', { token: alice.token, body: { type: 'direct', userId: bob.id } })
  let messagesStored = await sendAll(base, sessions, direct.json.id, DIRECT_HISTORY, 'direct')

  const form = new FormData()
  form.append('clientMsgId', 'seed-direct-image')
  form.append('body', 'A Parley-blue square')
  form.append('file', new Blob([solidPng(96, 96, [37, 99, 235])], { type: 'image/png' }), 'parley-blue.png')
  const image = await call(base, 'POST', `/api/conversations/${direct.json.id}/messages`, { token: alice.token, form })
  if (image.status === 201) messagesStored++

  const list = await call(base, 'GET', '/api/conversations?limit=100', { token: alice.token })
  let group = (list.json.items as Array<{ id: string, type: string, name?: string }>).find(c => c.type === 'group' && c.name === DEMO_GROUP)
  const groupCreated = group === undefined
  group ??= (await call(base, 'POST', '/api/conversations', {
    token: alice.token, body: { type: 'group', name: DEMO_GROUP, subject: 'Say hello', memberIds: [bob.id, carol.id] }
  })).json as { id: string, type: string }
  messagesStored += await sendAll(base, sessions, group.id, GROUP_HISTORY, 'group')
  return { usersCreated, messagesStored, groupCreated }
}

async function answers (url: string): Promise<boolean> {
  try {
    return (await fetch(`${url}/health`, { signal: AbortSignal.timeout(2000) })).ok
  } catch {
    return false
  }
}

async function main (): Promise<void> {
  const config = loadConfig()
  if (config.env === 'production') throw new SeedError('npm run seed refuses NODE_ENV=production: it creates accounts with published passwords')
  const url = (process.env.SEED_URL ?? `http://127.0.0.1:${config.port}`).replace(/\/$/, '')
  // This process's NODE_ENV says nothing of another machine's server: seeding one takes an explicit --remote.
  const host = new URL(url).hostname
  if (!LOOPBACK.test(host) && !process.argv.includes('--remote')) {
    throw new SeedError(`SEED_URL names another machine (${host}): the seed creates accounts with a published password; add --remote if that server is a demo`)
  }
  let base = url
  let close = async (): Promise<void> => {}
  if (!await answers(url)) {
    // No server there: run the app here on the same data, on a loopback port of its own.
    const { buildApp } = await import('../src/app.js')
    // The same secret as `npm start` on this data, so a later start accepts what was made here.
    const app = await buildApp(withDevelopmentSecret(config).config, { logger: { level: 'warn' } })
    base = await app.listen({ port: 0, host: '127.0.0.1' })
    close = async () => { await app.close() }
    console.log(`No server answered at ${url}; seeding ${config.mongodbUrl !== null ? 'MongoDB' : config.dataDir ?? 'an in-memory store'} directly.`)
  }
  try {
    const done = await seed(base)
    console.log(`Seeded: ${done.usersCreated} new users, ${done.messagesStored} new messages${done.groupCreated ? ', the group' : ''} (nothing new means it was already there).`)
  } finally {
    await close()
  }
  const open = base === url ? `Open ${url}` : `Start the server (npm start), open http://localhost:${config.port}`
  console.log(`${open} and log in as alice, bob or carol with the password ${DEMO_PASSWORD}`)
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch(error => {
    console.error(error instanceof SeedError || error instanceof ConfigError ? error.message : error)
    process.exit(1)
  })
}
