/**
 * A sweep of every user REST route (from the app's own OpenAPI description; the admin routes are swept in
 * bad-input-admin.test.ts) and every client socket event (from the
 * contract's table) with the worst inputs: wrong types, operator objects, NUL bytes, regex metacharacters, huge
 * and deeply nested values, malformed, upper-cased and unknown ids. None may answer 5xx or INTERNAL_ERROR, hang, or
 * crash; the app keeps answering afterwards.
 */
import t from 'tap'
import { clientEvents } from '../../src/realtime/events.schemas.js'
import { openDirect } from '../helpers/conversations.js'
import { emitRaw, startRealtimeApp, untyped } from '../helpers/realtime.js'
import { signUp } from '../helpers/users.js'
import { BAD_BODIES, BAD_VALUES, USER_FIELDS, sweepRoutes, unknownId } from './bad-input-kit.js'

t.test('every user REST route, worst inputs: a 4xx (or 2xx), never a 5xx', async t => {
  const kit = await startRealtimeApp(t, { RATE_LIMIT_MESSAGES: '0', RATE_LIMIT_LOGIN: '0', RATE_LIMIT_LOGIN_ACCOUNT: '0' })
  const { app } = kit
  const [alice, bob] = await Promise.all([signUp(app, 'alice'), signUp(app, 'bob')])
  const conversationId = await openDirect(app, alice, bob)
  const { failures, requests } = await sweepRoutes(app, {
    token: alice.accessToken,
    knownId: conversationId,
    fields: USER_FIELDS,
    // The admin routes have their own sweep (bad-input-admin.test.ts); these two would end alice's session.
    include: (path, method) => !path.startsWith('/api/admin') && !(path === '/api/users/me' && method === 'delete') && path !== '/api/auth/logout'
  })
  t.same(failures, [], `no 5xx over ${requests} requests`)
  t.equal((await app.inject({ method: 'GET', url: '/health' })).statusCode, 200, 'still serving')
})

t.test('every client event, worst payloads: an error ack (or ok), never INTERNAL_ERROR or silence', async t => {
  const kit = await startRealtimeApp(t, { RATE_LIMIT_MESSAGES: '0', RATE_LIMIT_SOCKET_EVENTS: '0' })
  const [alice, bob] = await Promise.all([signUp(kit.app, 'alice'), signUp(kit.app, 'bob')])
  const conversationId = await openDirect(kit.app, alice, bob)
  const socket = untyped(await kit.connect(alice.accessToken))
  const keys = ['conversationId', 'receiverId', 'messageId', 'body', 'seq', 'isTyping', 'userIds', 'attachmentIds', 'cursors', 'token', 'clientMsgId', 'replyToId', 'action']
  const failures: string[] = []
  let events = 0
  for (const name of Object.keys(clientEvents)) {
    const payloads: unknown[] = [...BAD_BODIES, undefined]
    for (const key of keys) for (const value of [...BAD_VALUES, conversationId.toUpperCase(), unknownId]) payloads.push({ [key]: value })
    payloads.push({ conversationId, seq: Number.MAX_SAFE_INTEGER }, { conversationId, body: 'x', replyToId: unknownId.toUpperCase() },
      { cursors: [{ conversationId, afterSeq: Number.MAX_SAFE_INTEGER }] }, { cursors: Array.from({ length: 1000 }, () => ({ conversationId, afterSeq: 0 })) })
    for (const payload of payloads) {
      events++
      const ack = await emitRaw(socket, name, ...(payload === undefined ? [] : [payload]))
      if (!ack.ok && ack.error.code === 'INTERNAL_ERROR') failures.push(`${name} ${JSON.stringify(payload)?.slice(0, 80)}`)
    }
  }
  t.same(failures, [], `no INTERNAL_ERROR over ${events} events`)
  t.ok(socket.connected, 'the socket is still connected')
})
