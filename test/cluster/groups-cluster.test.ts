/**
 * Group membership across instances: a member removed on A stops receiving on B (the next message, sent on C, does
 * not reach them), and a member added on B receives the next message sent on C.
 */
import t from 'tap'
import { startCluster } from '../helpers/cluster.js'
import { arrives, emitOk, nextEvent } from '../helpers/realtime.js'
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
