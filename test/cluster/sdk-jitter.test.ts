// The SDK's guarantee under jitter (issue 13), with real processes: three Parley instances (src/server.ts) on one
// store process and one spawned redis-server, five ParleyClients spread over them and nothing else between the
// senders and the store. Everyone sends throughout (a group of five and a direct pair), one client's transport is
// cut about every second, and one instance is killed with kill -9 mid-run and restarted on its port (its clients
// come back through socket.io's reconnection). At the end: every send() is stored exactly once, nothing is stored
// twice, every member shows exactly the stored list (seq 1..N, nothing pending); and no timeline event during the
// run showed a seq out of order, twice, above a gap, or a message other than the one stored under its seq.
import t from 'tap'
import mongoose from 'mongoose'
import { io } from 'socket.io-client'
import { ParleyClient, type ParleySocket, type TimelineMessage } from '../../client/src/index.js'
import type { IoFactory } from '../../client/src/connection.js'
import { directClients, stored as storedIn0, waitForStored } from '../client/client-kit.js'
import { startDbProcess, startParleyProcess, type ParleyProcess } from '../helpers/processes.js'
import { startTestRedis } from '../helpers/redis-server.js'
import { api } from '../helpers/rest.js'
import { signUp, type TestUser } from '../helpers/users.js'
import { sleep, waitFor } from '../helpers/wait.js'

/** How long senders send, in ms; the kill lands at KILL_AT_MS. */
const RUN_MS = 18_000
const KILL_AT_MS = 6_000
/** Real processes on a loaded 2-core machine: settling is polled, with a generous bound. */
const SETTLE_MS = 40_000

interface Sent { clientMsgId: string, sender: number }

interface Member {
  index: number
  user: TestUser
  client: ParleyClient
  /** Problems seen in this client's timeline events during the run. */
  violations: string[]
  /** seq -> message id of everything ever shown as stored, per conversation. */
  shown: Map<string, Map<number, string>>
  connects: number
  disconnects: number
}

type Stored = TimelineMessage & { status: 'stored' }
const storedOf = (messages: TimelineMessage[]): Stored[] => messages.filter((m): m is Stored => m.status === 'stored')

/** Checks one timeline event: stored seq 1..k in order once each, no clientMsgId twice (stored or pending), ids stable. */
function watch (member: Member, conversationId: string, messages: TimelineMessage[]): void {
  const fail = (what: string): void => { if (member.violations.length < 20) member.violations.push(`${conversationId}: ${what}`) }
  const stored = storedOf(messages)
  let shown = member.shown.get(conversationId)
  if (shown === undefined) member.shown.set(conversationId, shown = new Map())
  const previous = shown.size
  const keys = new Set<string>()
  stored.forEach((message, i) => {
    if (message.seq !== i + 1) fail(`position ${i} shows seq ${message.seq}`)
    const known = shown.get(message.seq)
    if (known !== undefined && known !== message.id) fail(`seq ${message.seq} shown as ${known}, then as ${message.id}`)
    shown.set(message.seq, message.id)
    if (message.clientMsgId !== null) {
      if (keys.has(message.clientMsgId)) fail(`clientMsgId ${message.clientMsgId} shown twice`)
      keys.add(message.clientMsgId)
    }
  })
  if (stored.length < previous) fail(`the view shrank from ${previous} to ${stored.length} stored messages`)
  // Stored messages come first; local sends after them, each once, and never beside their stored copy.
  messages.slice(stored.length).forEach(message => {
    if (message.status === 'stored') fail(`stored seq ${message.seq} after a local send`)
    else if (keys.has(message.clientMsgId)) fail(`clientMsgId ${message.clientMsgId} shown stored and ${message.status}`)
    else keys.add(message.clientMsgId)
    if (message.status === 'failed') fail(`send ${message.clientMsgId} failed: ${message.error?.code}`)
  })
}

/** Drops the socket's live `re_message` events for which `drop(seq)` is true (the socket is real, the loss injected). */
const lossy = (drop: (seq: number) => boolean): IoFactory => (url, options) => {
  const socket = io(url, options) as unknown as ParleySocket
  const on = socket.on.bind(socket) as (event: string, listener: (...args: any[]) => void) => ParleySocket
  ;(socket as any).on = (event: string, listener: (...args: any[]) => void) => on(event, event !== 're_message'
    ? listener
    : (payload: { message: { seq: number } }) => { if (!drop(payload.message.seq)) listener(payload) })
  return socket
}

// Found by the run below: a timeline showing nothing yet took the first message that came live as its start, so
// with seq 1 still on its way (in a sync answer after a reconnect, or lost with a killed instance) seq 2 was shown
// first, and seq 1 after it or never (the next sync asked only after seq 2).
t.test('the first message a timeline gets live is not taken as its start', async t => {
  const kit = await directClients(t)
  const alice = await kit.client(kit.alice)
  const bob = await kit.client(kit.bob, { io: lossy(seq => seq === 1) })
  const views: number[][] = []
  bob.on('timeline', (_id, messages) => { views.push(storedIn0(messages).map(m => m.seq)) })
  alice.send(kit.id, 'one')
  alice.send(kit.id, 'two')
  await waitForStored(bob, kit.id, 2)
  t.same(storedIn0(bob.messages(kit.id)).map(m => m.body), ['one', 'two'], 'seq 1 came through sync')
  t.ok(views.every(seqs => seqs.every((seq, i) => seq === i + 1)), `no view started above seq 1 (${JSON.stringify(views)})`)

  // Bob's phone confirmed 1..3; a fresh device gets nothing from its first sync, then seq 4 live: shown from 4.
  alice.send(kit.id, 'three')
  await waitForStored(bob, kit.id, 3)
  const deliveredSeq = async (): Promise<number> => (await bob.session.request('GET', `/api/conversations/${kit.id}`)).deliveredSeq
  await waitFor(async () => await deliveredSeq() === 3, 5000, 'deliveredSeq 3')
  const laptop = await kit.client(kit.bob, { login: true })
  t.same(laptop.messages(kit.id), [], 'nothing undelivered: nothing synced')
  alice.send(kit.id, 'four')
  await waitForStored(laptop, kit.id, 1)
  t.same(storedIn0(laptop.messages(kit.id)).map(m => m.seq), [4], 'held until a sync said nothing lies below it, then shown')
})

t.test('SDK clients on three instances: transport cuts and a kill -9 mid-run lose, repeat and misorder nothing', async t => {
  const started = Date.now()
  const redis = await startTestRedis(t)
  const db = await startDbProcess(t)
  const env = {
    MONGODB_URL: db.url, REDIS_URL: redis.url, JWT_SECRET: 'jitter-test-secret-that-is-long-enough-0123',
    RATE_LIMIT_MESSAGES: '0', RATE_LIMIT_SOCKET_EVENTS: '0'
  }
  const instances: ParleyProcess[] = await Promise.all([startParleyProcess(t, env), startParleyProcess(t, env), startParleyProcess(t, env)])
  t.comment(`store, redis and 3 instances up in ${Date.now() - started} ms`)

  // Five users: 0 and 3 on A, 1 and 4 on B (the one killed), 2 on C (the one whose transport is cut).
  const home = [0, 1, 2, 0, 1]
  const users = await Promise.all(home.map(async (at, i) => await signUp(instances[at], `jit${i}`)))
  const group = await api(instances[0], users[0])('POST', '/api/conversations', {
    type: 'group', name: 'jitter', memberIds: users.slice(1).map(user => user.id)
  })
  t.equal(group.statusCode, 201, 'group created')
  const direct = await api(instances[2], users[2])('POST', '/api/conversations', { type: 'direct', userId: users[1].id })
  t.equal(direct.statusCode, 201, 'direct conversation created')
  const groupId: string = group.json().id
  const directId: string = direct.json().id
  const conversations = [
    { id: groupId, name: 'group', members: [0, 1, 2, 3, 4] },
    { id: directId, name: 'direct', members: [1, 2] }
  ]

  const members: Member[] = await Promise.all(users.map(async (user, index) => {
    const client = new ParleyClient({
      url: instances[home[index]].url,
      socketOptions: { transports: ['websocket'], reconnectionDelay: 250, reconnectionDelayMax: 2000 }
    })
    const member: Member = { index, user, client, violations: [], shown: new Map(), connects: 0, disconnects: 0 }
    client.on('timeline', (conversationId, messages) => { watch(member, conversationId, messages) })
    client.on('connected', () => { member.connects++ })
    client.on('disconnected', () => { member.disconnects++ })
    client.on('session_ended', end => { member.violations.push(`session ended: ${end.reason}`) })
    client.on('send_failed', message => { member.violations.push(`send failed: ${message.error?.code}`) })
    t.teardown(() => { client.close() })
    await client.useTokens({ accessToken: user.accessToken, refreshToken: user.refreshToken })
    await client.connect()
    return member
  }))

  // Senders: everyone into the group, the direct pair into theirs, on timers, from now to RUN_MS.
  const runStarted = Date.now()
  const sent = new Map<string, Sent[]>(conversations.map(c => [c.id, []]))
  let sending = true
  const timers: Array<ReturnType<typeof setTimeout>> = []
  const sendEvery = (member: Member, conversationId: string, periodMs: number): void => {
    const tick = (): void => {
      if (!sending) return
      const local = member.client.send(conversationId, `from ${member.index} #${(sent.get(conversationId) as Sent[]).length}`)
      ;(sent.get(conversationId) as Sent[]).push({ clientMsgId: local.clientMsgId, sender: member.index })
      timers.push(setTimeout(tick, periodMs * (0.5 + Math.random())))
    }
    timers.push(setTimeout(tick, Math.random() * periodMs))
  }
  for (const member of members) sendEvery(member, groupId, 250)
  for (const index of [1, 2]) sendEvery(members[index], directId, 300)

  // Client 2's transport is cut about every second, while it is up.
  const cut = members[2]
  let cuts = 0
  const cutter = setInterval(() => {
    if (!cut.client.connected || Math.random() < 0.2) return
    cut.client.socket.io.engine.close()
    cuts++
  }, 1000)
  t.teardown(() => { clearInterval(cutter); sending = false; for (const timer of timers) clearTimeout(timer) })

  // Mid-run: kill -9 of B, and B again on the same port while the others go on.
  await sleep(KILL_AT_MS - (Date.now() - runStarted))
  const killedAt = Date.now()
  await instances[1].kill()
  const b = instances[1] = await startParleyProcess(t, env, { port: instances[1].port })
  t.comment(`B killed and back on port ${b.port} in ${Date.now() - killedAt} ms`)
  await sleep(RUN_MS - (Date.now() - runStarted))
  sending = false
  clearInterval(cutter)
  const sendPhaseEnded = Date.now()

  // Settle: everyone connected, every outbox empty (so every send is stored), then every member shows the store.
  await waitFor(() => members.every(m => m.client.connected && m.client.pending === 0), SETTLE_MS,
    `connected clients with empty outboxes (pending: ${members.map(m => m.client.pending).join(', ')})`)
  const mongo = new mongoose.mongo.MongoClient(db.url)
  await mongo.connect()
  t.teardown(async () => { await mongo.close() })
  const storedIn = new Map<string, Array<{ _id: unknown, seq: number, clientMsgId?: string }>>()
  for (const conversation of conversations) {
    storedIn.set(conversation.id, await mongo.db().collection<{ _id: unknown, seq: number, clientMsgId?: string }>('messages')
      .find({ conversationId: new mongoose.Types.ObjectId(conversation.id) }).sort({ seq: 1 }).toArray())
  }
  const settled = (member: Member, conversationId: string): boolean => {
    const messages = member.client.messages(conversationId)
    return messages.length === (storedIn.get(conversationId) ?? []).length && messages.every(m => m.status === 'stored')
  }
  await waitFor(() => conversations.every(c => c.members.every(i => settled(members[i], c.id))), SETTLE_MS, 'every timeline showing the store')
  t.comment(`settled ${Date.now() - sendPhaseEnded} ms after the senders stopped; ${cuts} transport cuts; connects per client ${members.map(m => m.connects).join(', ')}`)

  for (const conversation of conversations) {
    const docs = storedIn.get(conversation.id) ?? []
    const calls = sent.get(conversation.id) ?? []
    const keys = docs.map(doc => doc.clientMsgId)
    t.ok(calls.length > 50, `${conversation.name}: ${calls.length} send() calls during the run`)
    t.same(docs.map(doc => doc.seq), docs.map((_, i) => i + 1), `${conversation.name}: stored seq 1..${docs.length}`)
    t.equal(new Set(keys).size, keys.length, `${conversation.name}: no clientMsgId stored twice`)
    t.same([...keys].sort(), calls.map(call => call.clientMsgId).sort(), `${conversation.name}: every send() stored exactly once, nothing else`)
    // One sender's messages keep their send order (one in flight per conversation).
    for (const index of conversation.members) {
      const own = calls.filter(call => call.sender === index).map(call => call.clientMsgId)
      const storedOrder = keys.filter(key => own.includes(key as string))
      t.same(storedOrder, own, `${conversation.name}: client ${index}'s messages stored in send order`)
    }
    const expected = docs.map(doc => ({ seq: doc.seq, id: String(doc._id), clientMsgId: doc.clientMsgId }))
    for (const index of conversation.members) {
      const shown = storedOf(members[index].client.messages(conversation.id)).map(m => ({ seq: m.seq, id: m.id, clientMsgId: m.clientMsgId }))
      t.same(shown, expected, `${conversation.name}: client ${index} shows exactly the stored list, once each, in seq order`)
      // Nothing shown at any time that was not stored under that seq.
      const ever = members[index].shown.get(conversation.id) ?? new Map<number, string>()
      const strays = [...ever].filter(([seq, id]) => expected[seq - 1]?.id !== id)
      t.same(strays, [], `${conversation.name}: client ${index} never showed a message that is not the stored one`)
    }
  }
  for (const member of members) t.same(member.violations, [], `client ${member.index}: every timeline event in seq order, each once, nothing above a gap`)
  t.ok(cuts >= 5, `client 2's transport was cut ${cuts} times`)
  t.ok(cut.connects > cuts / 2, `client 2 reconnected (${cut.connects} connects)`)
  for (const index of [1, 4]) t.ok(members[index].connects >= 2, `client ${index} on B came back after the kill (${members[index].connects} connects)`)
  t.comment(`whole test ${Date.now() - started} ms`)
})
