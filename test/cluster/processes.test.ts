// The cluster as it runs for real: three Parley processes (src/server.ts) sharing one spawned redis-server and one
// store served by scripts/db.ts (npm run db). Clients on different instances, kill -9 of an instance with catch-up
// through sync on another one, a Redis restart mid-test, and SIGTERM's drain.
import t from 'tap'
import { io as connectClient, type Socket } from 'socket.io-client'
import { startDbProcess, startParleyProcess, type ParleyProcess } from '../helpers/processes.js'
import { startTestRedis } from '../helpers/redis-server.js'

type Ack = { ok: boolean, data?: any, error?: { code: string } }
interface User { id: string, accessToken: string, refreshToken: string }

const password = 'correct horse battery'

async function rest (instance: ParleyProcess, method: string, path: string, token?: string, body?: object): Promise<{ status: number, json: any }> {
  const headers: Record<string, string> = {}
  if (token !== undefined) headers.authorization = `Bearer ${token}`
  if (body !== undefined) headers['content-type'] = 'application/json'
  const res = await fetch(`${instance.url}${path}`, { method, headers, body: body !== undefined ? JSON.stringify(body) : undefined })
  const text = await res.text()
  return { status: res.status, json: text === '' ? null : JSON.parse(text) }
}

async function signUp (instance: ParleyProcess, username: string): Promise<User> {
  const registered = await rest(instance, 'POST', '/api/auth/register', undefined, { username, email: `${username}@example.com`, password })
  if (registered.status !== 201) throw new Error(`register: ${registered.status} ${JSON.stringify(registered.json)}`)
  return { id: registered.json.user.id, ...await login(instance, username) }
}

async function login (instance: ParleyProcess, username: string): Promise<{ accessToken: string, refreshToken: string }> {
  const res = await rest(instance, 'POST', '/api/auth/login', undefined, { login: username, password })
  if (res.status !== 200) throw new Error(`login: ${res.status}`)
  return { accessToken: res.json.accessToken, refreshToken: res.json.refreshToken }
}

const sockets = new Set<Socket>()
async function connect (instance: ParleyProcess, token: string): Promise<Socket> {
  const socket = connectClient(instance.url, { auth: { token }, transports: ['websocket'], reconnection: false, forceNew: true })
  sockets.add(socket)
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => { resolve() })
    socket.once('connect_error', reject)
  })
  return socket
}

async function emit (socket: Socket, event: string, payload: object): Promise<Ack> {
  return await socket.timeout(10_000).emitWithAck(event, payload)
}

/** The next `event` on `socket` that satisfies `match`, within `ms`. */
async function next<T = any> (socket: Socket, event: string, match: (payload: T) => boolean = () => true, ms = 10_000): Promise<T> {
  return await new Promise((resolve, reject) => {
    const timer = setTimeout(() => { socket.off(event, on); reject(new Error(`no ${event} within ${ms} ms`)) }, ms)
    const on = (payload: T): void => {
      if (!match(payload)) return
      clearTimeout(timer)
      socket.off(event, on)
      resolve(payload)
    }
    socket.on(event, on)
  })
}

t.test('three processes, one Redis, one store', async t => {
  t.teardown(() => { for (const socket of sockets) socket.disconnect() })
  const redis = await startTestRedis(t)
  const db = await startDbProcess(t)
  const env = { MONGODB_URL: db.url, REDIS_URL: redis.url, JWT_SECRET: 'cluster-test-secret-that-is-long-enough-0123', RATE_LIMIT_MESSAGES: '0' }
  const [a, b, c] = await Promise.all([startParleyProcess(t, env), startParleyProcess(t, env), startParleyProcess(t, env)])

  const alice = await signUp(a, `alice${process.pid}`)
  const bob = await signUp(b, `bob${process.pid}`)
  const aliceOnC = await login(c, `alice${process.pid}`)
  const opened = await rest(a, 'POST', '/api/conversations', alice.accessToken, { type: 'direct', userId: bob.id })
  t.equal(opened.status, 201)
  const conversationId: string = opened.json.id

  const alicePhone = await connect(a, alice.accessToken)
  const aliceLaptop = await connect(c, aliceOnC.accessToken)
  let bobSocket = await connect(b, bob.accessToken)

  await t.test('a message from A reaches B and the sender\'s other device on C', async t => {
    const toBob = next(bobSocket, 're_message')
    const toLaptop = next(aliceLaptop, 're_message')
    const ack = await emit(alicePhone, 'chat_message', { conversationId, body: 'hello across', clientMsgId: 'p1' })
    t.ok(ack.ok)
    t.equal((await toBob).message.id, ack.data.id)
    t.equal((await toLaptop).message.seq, 1)
  })

  await t.test('receipts, typing and presence cross instances', async t => {
    const receipt = next(alicePhone, 'receipt')
    t.ok((await emit(bobSocket, 'read', { conversationId, seq: 1 })).ok)
    t.match(await receipt, { userId: bob.id, kind: 'read', seq: 1 })
    const typing = next(aliceLaptop, 'typing')
    t.ok((await emit(bobSocket, 'typing', { conversationId, isTyping: true })).ok)
    t.match(await typing, { userId: bob.id, isTyping: true })
    const presence = await emit(bobSocket, 'presence_query', { userIds: [alice.id] })
    t.equal(presence.data[alice.id].online, true, 'alice is online (on A and C) as seen from B')
  })

  await t.test('logout on A disconnects that session\'s socket on C', async t => {
    const laptopGone = new Promise(resolve => aliceLaptop.once('disconnect', resolve))
    t.equal((await rest(a, 'POST', '/api/auth/logout', aliceOnC.accessToken, { refreshToken: aliceOnC.refreshToken })).status, 204)
    await Promise.race([laptopGone, new Promise((_resolve, reject) => setTimeout(() => { reject(new Error('not disconnected')) }, 10_000))])
    t.ok(alicePhone.connected, 'the other session stays')
  })

  await t.test('kill -9 of B: bob reconnects to C and sync brings what he missed, once', async t => {
    await b.kill()
    const sent: number[] = []
    for (let i = 0; i < 5; i++) {
      const ack = await emit(alicePhone, 'chat_message', { conversationId, body: `while bob was away ${i}`, clientMsgId: `away${i}` })
      t.ok(ack.ok)
      sent.push(ack.data.seq)
    }
    bobSocket = await connect(c, bob.accessToken)
    const synced = await emit(bobSocket, 'sync', { cursors: [{ conversationId, afterSeq: 1 }] })
    t.ok(synced.ok)
    const got = synced.data.conversations.find((entry: { conversationId: string }) => entry.conversationId === conversationId)
    t.same(got.messages.map((m: { seq: number }) => m.seq), sent, 'exactly the missed seqs, in order')
    t.equal(new Set(got.messages.map((m: { id: string }) => m.id)).size, 5, 'no duplicates')
  })

  await t.test('Redis restart: stored meanwhile, delivery resumes after', async t => {
    await redis.stop()
    const during = await emit(alicePhone, 'chat_message', { conversationId, body: 'during the outage', clientMsgId: 'outage1' })
    t.ok(during.ok, 'sending still works: stored')
    t.equal((await rest(a, 'GET', `/api/conversations/${conversationId}/messages?afterSeq=${during.data.seq - 1}`, alice.accessToken)).status, 200, 'REST still serves')
    await redis.start()
    // Until the instances have reconnected, a message may still travel nowhere: retry the probe until one arrives.
    let delivered = false
    for (let attempt = 0; attempt < 20 && !delivered; attempt++) {
      const arrival = next(bobSocket, 're_message', () => true, 1500).then(() => true, () => false)
      await emit(alicePhone, 'chat_message', { conversationId, body: `after the outage ${attempt}` })
      delivered = await arrival
    }
    t.ok(delivered, 'cross-instance delivery resumed')
    const synced = await emit(bobSocket, 'sync', { cursors: [{ conversationId, afterSeq: during.data.seq - 1 }] })
    t.equal(synced.data.conversations[0].messages[0].id, during.data.id, 'the outage message comes through sync')
  })

  await t.test('SIGTERM drains A and exits 0; its client can reconnect elsewhere', async t => {
    const closed = new Promise<string>(resolve => alicePhone.once('disconnect', reason => { resolve(reason) }))
    t.equal(await a.stop(), 0)
    const reason = await closed
    t.not(reason, 'io server disconnect', `a reconnectable close (${reason})`)
    const again = await connect(c, alice.accessToken)
    t.ok(again.connected)
  })
})
