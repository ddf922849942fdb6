/**
 * A sweep of every REST route (from the app's own OpenAPI description) and every client socket event (from the
 * contract's table) with the worst inputs: wrong types, operator objects, NUL bytes, regex metacharacters, huge
 * and deeply nested values, malformed, upper-cased and unknown ids. None may answer 5xx or INTERNAL_ERROR, hang, or
 * crash; the app keeps answering afterwards.
 */
import t from 'tap'
import { Types } from 'mongoose'
import { clientEvents } from '../../src/realtime/events.schemas.js'
import { openDirect } from '../helpers/conversations.js'
import { emitRaw, startRealtimeApp, untyped } from '../helpers/realtime.js'
import { login, signUp } from '../helpers/users.js'

const deep = (): Record<string, unknown> => {
  const root: Record<string, unknown> = {}
  let cursor = root
  for (let i = 0; i < 500; i++) cursor = (cursor.a = {}) as Record<string, unknown>
  return root
}
const unknownId = new Types.ObjectId().toHexString()
const BAD_IDS = ['x', unknownId, unknownId.toUpperCase(), '{"$gt":""}', '%24gt', '%00', 'a%00b', '.*', '(a+)+$', 'z'.repeat(300)]
const BAD_QUERIES = [
  'limit=abc', 'limit=-1', 'limit=1e309', 'cursor=%00', 'cursor=eyJ0IjoxZTIwfQ', 'search=%00', 'search=.*(a%2B)%2B%24',
  'search[$ne]=x', 'beforeSeq=-5', 'afterSeq=1e309', 'beforeSeq=1&afterSeq=2', 'seq=x',
  // The admin history's filters.
  'from=yesterday', 'to=%00', 'from=2026-12-02T00:00:00Z&to=2026-12-01T00:00:00Z', 'q=%00', 'q=.*(a%2B)%2B%24', 'q=' + 'x'.repeat(5000),
  'senderId[$gt]=', 'participantId=.*', 'conversationId=%24gt', 'hasAttachment=maybe', 'includeDeleted=2', 'order=sideways',
  'action=%24where', 'actorId={}', 'role=root', 'disabled=yes'
]
const BAD_VALUES: unknown[] = [null, true, 0, -1, 1e308, 'x', '\u0000', '.*', '$where', { $gt: '' }, { $where: '1' }, [], [{ $ne: null }], deep(), 'y'.repeat(70_000)]
const BAD_BODIES: unknown[] = [null, [], 'text', 42, {}, deep(), { '': 1 }, { __proto__: { admin: true } }, { constructor: { prototype: { x: 1 } } }]

t.test('every REST route, worst inputs: a 4xx (or 2xx), never a 5xx', async t => {
  const kit = await startRealtimeApp(t, {
    RATE_LIMIT_MESSAGES: '0', RATE_LIMIT_LOGIN: '0', RATE_LIMIT_LOGIN_ACCOUNT: '0', ADMIN_USERNAME: 'root', ADMIN_EMAIL: 'root@example.com', ADMIN_PASSWORD: 'root password'
  })
  const { app } = kit
  const [alice, bob] = await Promise.all([signUp(app, 'alice'), signUp(app, 'bob')])
  // Admin routes are swept as an admin (as alice they stop at the role check).
  const root = await login(app, 'root', 'root password')
  const conversationId = await openDirect(app, alice, bob)
  const spec = (await app.inject({ method: 'GET', url: '/docs/json' })).json() as { paths: Record<string, Record<string, { requestBody?: unknown }>> }
  const fields = ['userId', 'body', 'login', 'password', 'username', 'email', 'refreshToken', 'token', 'seq', 'type', 'attachmentIds',
    'clientMsgId', 'replyToId', 'firstName', 'currentPassword', 'newPassword', 'subject', 'conversationId', 'receiverId']
  let requests = 0
  const failures: string[] = []
  const send = async (method: string, url: string, payload?: unknown, contentType = 'application/json'): Promise<void> => {
    requests++
    const res = await app.inject({
      method: method.toUpperCase() as 'GET',
      url,
      headers: { authorization: `Bearer ${url.startsWith('/api/admin') ? root.accessToken : alice.accessToken}`, 'content-type': contentType },
      ...(payload === undefined ? {} : { payload: typeof payload === 'string' ? payload : JSON.stringify(payload) })
    })
    if (res.statusCode >= 500) failures.push(`${method} ${url} ${JSON.stringify(payload)?.slice(0, 80)} -> ${res.statusCode} ${res.body.slice(0, 120)}`)
  }
  for (const [path, operations] of Object.entries(spec.paths)) {
    for (const method of Object.keys(operations)) {
      // These would end alice's session for the rest of the sweep.
      if ((path === '/api/users/me' && method === 'delete') || path === '/api/auth/logout') continue
      const urls = path.includes('{id}') ? [...BAD_IDS, conversationId].map(id => path.replace('{id}', id)) : [path]
      for (const url of urls) {
        await send(method, url)
        for (const query of BAD_QUERIES) await send(method, `${url}?${query}`)
        if (method === 'get') continue
        for (const body of BAD_BODIES) await send(method, url, body)
        for (const field of fields) for (const value of BAD_VALUES) await send(method, url, { [field]: value })
        await send(method, url, '{"body": "unterminated')
        await send(method, url, '--x\r\nContent-Disposition: form-data; name="file"; filename="a%00.txt"\r\n\r\nhi\r\n--x--\r\n', 'multipart/form-data; boundary=x')
      }
    }
  }
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
