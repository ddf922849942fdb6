// The cluster as it runs for real: three Parley processes (src/server.ts) sharing one spawned redis-server and one
// store served by scripts/db.ts (npm run db). Clients on different instances, kill -9 of an instance with catch-up
// through sync on another one, a Redis restart mid-test, and SIGTERM's drain.
import t from 'tap'
import { startDbProcess, startParleyProcess } from '../helpers/processes.js'
import { arrives, disconnected, emitAck, nextEvent, socketConnector } from '../helpers/realtime.js'
import { startTestRedis } from '../helpers/redis-server.js'
import { api } from '../helpers/rest.js'
import { newSession, signUp } from '../helpers/users.js'

/** Real processes under a loaded machine: longer waits than in-process tests. */
const WAIT_MS = 10_000

t.test('three processes, one Redis, one store', async t => {
  const connect = socketConnector(t)
  const redis = await startTestRedis(t)
  const db = await startDbProcess(t)
  const env = { MONGODB_URL: db.url, REDIS_URL: redis.url, JWT_SECRET: 'cluster-test-secret-that-is-long-enough-0123', RATE_LIMIT_MESSAGES: '0' }
  const [a, b, c] = await Promise.all([startParleyProcess(t, env), startParleyProcess(t, env), startParleyProcess(t, env)])

  const alice = await signUp(a, 'alice')
  const bob = await signUp(b, 'bob')
  const aliceOnC = await newSession(c, alice)
  const opened = await api(a, alice)('POST', '/api/conversations', { type: 'direct', userId: bob.id })
  t.equal(opened.statusCode, 201)
  const conversationId: string = opened.json().id

  const alicePhone = await connect(a.url, alice.accessToken)
  const aliceLaptop = await connect(c.url, aliceOnC.accessToken)
  let bobSocket = await connect(b.url, bob.accessToken)

  await t.test('a message from A reaches B and the sender\'s other device on C', async t => {
    const toBob = nextEvent(bobSocket, 're_message', WAIT_MS)
    const toLaptop = nextEvent(aliceLaptop, 're_message', WAIT_MS)
    const ack = await emitAck(alicePhone, 'chat_message', { conversationId, body: 'hello across', clientMsgId: 'p1' }, WAIT_MS)
    t.ok(ack.ok)
    if (!ack.ok) return
    t.equal((await toBob).message.id, ack.data.id)
    t.equal((await toLaptop).message.seq, 1)
  })

  await t.test('receipts, typing and presence cross instances', async t => {
    const receipt = nextEvent(alicePhone, 'receipt', WAIT_MS)
    t.ok((await emitAck(bobSocket, 'read', { conversationId, seq: 1 }, WAIT_MS)).ok)
    t.match(await receipt, { userId: bob.id, kind: 'read', seq: 1 })
    const typing = nextEvent(aliceLaptop, 'typing', WAIT_MS)
    t.ok((await emitAck(bobSocket, 'typing', { conversationId, isTyping: true }, WAIT_MS)).ok)
    t.match(await typing, { userId: bob.id, isTyping: true })
    const presence = await emitAck(bobSocket, 'presence_query', { userIds: [alice.id] }, WAIT_MS)
    t.equal(presence.ok && presence.data[alice.id].online, true, 'alice is online (on A and C) as seen from B')
  })

  await t.test('logout on A disconnects that session\'s socket on C', async t => {
    const laptopGone = disconnected(aliceLaptop, WAIT_MS)
    t.equal((await api(a, aliceOnC)('POST', '/api/auth/logout', { refreshToken: aliceOnC.refreshToken })).statusCode, 204)
    await laptopGone
    t.ok(alicePhone.connected, 'the other session stays')
  })

  await t.test('kill -9 of B: bob reconnects to C and sync brings what he missed, once', async t => {
    await b.kill()
    const sent: number[] = []
    for (let i = 0; i < 5; i++) {
      const ack = await emitAck(alicePhone, 'chat_message', { conversationId, body: `while bob was away ${i}`, clientMsgId: `away${i}` }, WAIT_MS)
      t.ok(ack.ok)
      if (ack.ok) sent.push(ack.data.seq)
    }
    bobSocket = await connect(c.url, bob.accessToken)
    const synced = await emitAck(bobSocket, 'sync', { cursors: [{ conversationId, afterSeq: 1 }] }, WAIT_MS)
    t.ok(synced.ok)
    if (!synced.ok) return
    const got = synced.data.conversations.find(entry => entry.conversationId === conversationId)
    t.same(got?.messages.map(m => m.seq), sent, 'exactly the missed seqs, in order')
    t.equal(new Set(got?.messages.map(m => m.id)).size, 5, 'no duplicates')
  })

  await t.test('Redis restart: stored meanwhile, delivery resumes after', async t => {
    await redis.stop()
    const during = await emitAck(alicePhone, 'chat_message', { conversationId, body: 'during the outage', clientMsgId: 'outage1' }, WAIT_MS)
    t.ok(during.ok, 'sending still works: stored')
    if (!during.ok) return
    t.equal((await api(a, alice)('GET', `/api/conversations/${conversationId}/messages?afterSeq=${during.data.seq - 1}`)).statusCode, 200, 'REST still serves')
    await redis.start()
    // Until the instances have reconnected, a message may still travel nowhere: retry the probe until one arrives.
    let delivered = false
    for (let attempt = 0; attempt < 20 && !delivered; attempt++) {
      const arrival = arrives(bobSocket, 're_message', 1500)
      await emitAck(alicePhone, 'chat_message', { conversationId, body: `after the outage ${attempt}` }, WAIT_MS)
      delivered = await arrival
    }
    t.ok(delivered, 'cross-instance delivery resumed')
    const synced = await emitAck(bobSocket, 'sync', { cursors: [{ conversationId, afterSeq: during.data.seq - 1 }] }, WAIT_MS)
    t.equal(synced.ok && synced.data.conversations[0].messages[0].id, during.data.id, 'the outage message comes through sync')
  })

  await t.test('SIGTERM drains A and exits 0; its client can reconnect elsewhere', async t => {
    const closed = disconnected(alicePhone, 30_000)
    t.equal(await a.stop(), 0)
    const reason = await closed
    t.not(reason, 'io server disconnect', `a reconnectable close (${reason})`)
    const again = await connect(c.url, alice.accessToken)
    t.ok(again.connected)
  })
})
