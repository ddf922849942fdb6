/**
 * A real crash: a Parley process (src/server.ts) with a user connected is killed with SIGKILL. Nothing of it runs
 * afterwards, so only the surviving instance's reaper can end that user's presence: with the default timing
 * (TTL 15 s, reaper every 5 s ± 20 %) the friend hears `online: false` once, within the documented bound.
 */
import t from 'tap'
import { buildApp } from '../../src/app.js'
import { testConfig } from '../helpers/build-app.js'
import { FAST_ARGON2 } from '../helpers/realtime.js'
import { startTestRedis } from '../helpers/redis-server.js'
import { startDbProcess, startParleyProcess } from '../helpers/processes.js'
import { io as connectClient, type Socket as ClientSocket } from 'socket.io-client'
import { bearer, queried, record, sleep, until } from './presence-helpers.js'

/** Defaults of RedisPresenceStore: ttlMs + 1.2 × reapMs = 21 s, plus room for a loaded machine. */
const DEFAULT_BOUND_MS = 21_000
const SLACK_MS = 8_000

t.test('kill -9 of an instance: its users go offline within the bound, pushed once', async t => {
  const redis = await startTestRedis(t)
  const db = await startDbProcess(t)
  const env = { REDIS_URL: redis.url, MONGODB_URL: db.url, JWT_SECRET: 'test-secret-that-is-long-enough-0123456789' }
  const doomed = await startParleyProcess(t, env)
  const survivor = await buildApp(testConfig({ ...FAST_ARGON2, ...env }))
  const sockets: ClientSocket[] = []
  t.teardown(async () => {
    for (const socket of sockets) socket.disconnect()
    await survivor.close()
  })
  await survivor.listen({ port: 0, host: '127.0.0.1' })
  const address = survivor.server.address()
  if (address === null || typeof address === 'string') throw new Error('not listening')

  const register = async (name: string): Promise<{ id: string, token: string }> => {
    const username = `${name}_${process.pid}`
    const res = await survivor.inject({ method: 'POST', url: '/api/auth/register', payload: { username, email: `${username}@example.com`, password: 'correct horse battery' } })
    t.equal(res.statusCode, 201)
    const login = await survivor.inject({ method: 'POST', url: '/api/auth/login', payload: { login: username, password: 'correct horse battery' } })
    return { id: res.json().user.id, token: login.json().accessToken }
  }
  const connect = async (url: string, token: string): Promise<ClientSocket> => {
    const socket = connectClient(url, { path: '/socket.io', transports: ['websocket'], reconnection: false, forceNew: true, auth: { token } })
    sockets.push(socket)
    await new Promise<void>((resolve, reject) => { socket.once('connect', resolve); socket.once('connect_error', reject) })
    return socket
  }
  const alice = await register('alice')
  const bob = await register('bob')
  const created = await survivor.inject({ method: 'POST', url: '/api/conversations', headers: bearer(bob.token), payload: { type: 'direct', userId: alice.id } })
  t.equal(created.statusCode, 201)

  const bobSocket = await connect(`http://127.0.0.1:${address.port}`, bob.token)
  const seen = record(bobSocket)
  await connect(doomed.url, alice.token)
  await until(() => seen.length === 1, 10_000, 'bob hears alice come online (pushed by the other process)')
  t.match(seen[0], { userId: alice.id, online: true })
  t.equal(survivor.users.isOnline(alice.id), true, 'the survivor mirrors her')

  const killedAt = Date.now()
  await doomed.kill()
  await until(() => seen.length === 2, DEFAULT_BOUND_MS + SLACK_MS, 'bob hears alice go offline')
  const tookMs = Date.now() - killedAt
  t.ok(tookMs <= DEFAULT_BOUND_MS + SLACK_MS, `offline ${tookMs} ms after kill -9 (bound ${DEFAULT_BOUND_MS} ms)`)
  t.match(seen[1], { userId: alice.id, online: false, lastSeenAt: /^\d{4}-/ })
  const lastSeen = Date.parse(seen[1].lastSeenAt ?? '')
  t.ok(lastSeen <= killedAt + 100 && lastSeen > killedAt - 15_000, 'lastSeenAt: the dead process\'s last heartbeat')
  t.same(await queried(bobSocket, alice.id), { online: false, lastSeenAt: seen[1].lastSeenAt })
  t.equal(survivor.users.isOnline(alice.id), false)
  t.equal(await survivor.presence.onlineCount(), 1, 'bob alone')
  await sleep(1000)
  t.equal(seen.length, 2, 'pushed once')
})
