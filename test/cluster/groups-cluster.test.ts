/**
 * Group membership across instances: a member removed on A stops receiving on B (the next message, sent on C, does
 * not reach them, nor do sends that were in flight when it was acked), and a member added on B receives the next
 * message sent on C.
 */
import t from 'tap'
import { startCluster } from '../helpers/cluster.js'
import { arrives, emitAck, emitOk, nextEvent } from '../helpers/realtime.js'
import { api } from '../helpers/rest.js'
import { newSession, signUp } from '../helpers/users.js'

t.test('removal on A and addition on B take effect for sends on C', async t => {
  const cluster = await startCluster(t, { instances: 3, env: { RATE_LIMIT_MESSAGES: '0', RATE_LIMIT_REGISTER: '0' } })
  const [A, B, C] = cluster.instances
  const [owner, leaving, joining] = await Promise.all(['owner', 'leaving', 'joining'].map(async name => await signUp(A.app, name)))
  const created = await api(A.app, owner)('POST', '/api/conversations', { type: 'group', name: 'Cluster', memberIds: [leaving.id] })
  t.equal(created.statusCode, 201)
  const groupId: string = created.json().id
  const ownerOnC = await cluster.connect(C, (await newSession(C.app, owner)).accessToken)
  const leavingOnB = await cluster.connect(B, (await newSession(B.app, leaving)).accessToken)
  const joiningOnC = await cluster.connect(C, (await newSession(C.app, joining)).accessToken)

  const first = nextEvent(leavingOnB, 're_message')
  await emitOk(ownerOnC, 'chat_message', { conversationId: groupId, body: 'one' })
  t.match(await first, { message: { body: 'one' } }, 'a member on B receives a send from C')

  const told = nextEvent(leavingOnB, 'member_left')
  t.equal((await api(A.app, owner)('DELETE', `/api/conversations/${groupId}/members/${leaving.id}`)).statusCode, 204, 'removed on A')
  t.match(await told, { conversationId: groupId, userId: leaving.id }, 'B tells the removed member')
  const afterRemoval = arrives(leavingOnB, 're_message', 1000)
  const joined = nextEvent(joiningOnC, 'member_joined')
  t.equal((await api(B.app, owner)('POST', `/api/conversations/${groupId}/members`, { userIds: [joining.id] })).statusCode, 200, 'added on B')
  await joined
  const toNew = nextEvent(joiningOnC, 're_message')
  await emitOk(ownerOnC, 'chat_message', { conversationId: groupId, body: 'two' })
  t.match(await toNew, { message: { body: 'two' } }, 'the member added on B receives the next send on C')
  t.notOk(await afterRemoval, 'the member removed on A receives nothing more on B')
})

t.test('sends in flight on C during a removal on A: nothing reaches the removed member on B after the ack', async t => {
  const cluster = await startCluster(t, { instances: 3, env: { RATE_LIMIT_MESSAGES: '0', RATE_LIMIT_REGISTER: '0', RATE_LIMIT_SOCKET_EVENTS: '0' } })
  const [A, B, C] = cluster.instances
  const [owner, leaving, staying] = await Promise.all(['owner', 'leaving', 'staying'].map(async name => await signUp(A.app, name)))
  const created = await api(A.app, owner)('POST', '/api/conversations', { type: 'group', name: 'In flight', memberIds: [leaving.id, staying.id] })
  const groupId: string = created.json().id
  const ownerOnC = await cluster.connect(C, (await newSession(C.app, owner)).accessToken)
  const leavingOnB = await cluster.connect(B, (await newSession(B.app, leaving)).accessToken)
  const stayingOnB = await cluster.connect(B, (await newSession(B.app, staying)).accessToken)
  let toLeaving = 0
  let toStaying = 0
  leavingOnB.on('re_message', () => { toLeaving++ })
  stayingOnB.on('re_message', () => { toStaying++ })

  // Four senders on C keep sends in flight the whole time: some are accepted before the removal and emitted after it.
  let sending = true
  const senders = Array.from({ length: 4 }, async (_, lane) => {
    for (let i = 0; sending; i++) await emitOk(ownerOnC, 'chat_message', { conversationId: groupId, body: `lane ${lane} #${i}` })
  })
  while (toLeaving < 20) await new Promise(resolve => setTimeout(resolve, 10))
  const removed = await api(A.app, owner)('DELETE', `/api/conversations/${groupId}/members/${leaving.id}`)
  t.equal(removed.statusCode, 204, 'removed on A while sends run')
  // Everything B wrote to the socket before it left the room arrives before this ack (one ordered connection).
  await emitAck(leavingOnB, 'sync', { cursors: [] })
  const atAck = toLeaving
  const stayingAtAck = toStaying
  await new Promise(resolve => setTimeout(resolve, 500))
  sending = false
  await Promise.all(senders)
  t.ok(atAck >= 20, `the member received while a member (${atAck})`)
  t.equal(toLeaving, atAck, 'nothing reached the removed member after the removal was acked')
  t.ok(toStaying > stayingAtAck, 'the sends kept reaching the other member on B')
})
