/**
 * Bad input over the socket never crashes the server and never goes unanswered: garbage payloads get
 * VALIDATION_ERROR acks, events without an ack change nothing, unknown events are ignored (an ack, if sent,
 * says UNKNOWN_EVENT), and handler failures map to coded acks (AppError) or a generic INTERNAL_ERROR.
 */
import t from 'tap'
import type { FastifyBaseLogger } from 'fastify'
import { compileEvent } from '../../src/realtime/ack.js'
import type { SocketHandler } from '../../src/realtime/contracts.js'
import { AppError } from '../../src/shared/errors.js'
import { emitAck, emitRaw, startRealtimeApp, untyped } from '../helpers/realtime.js'
import { signUp } from '../helpers/users.js'


t.test('garbage presence_query payloads get VALIDATION_ERROR acks and the socket keeps working', async t => {
  const kit = await startRealtimeApp(t)
  const alice = await signUp(kit.app, 'alice')
  const socket = await kit.connect(alice.accessToken)
  const huge = { userIds: Array.from({ length: 201 }, (_, i) => i.toString(16).padStart(24, '0')) }
  const deep: Record<string, unknown> = {}
  let cursor = deep
  for (let i = 0; i < 200; i++) cursor = (cursor.next = {}) as Record<string, unknown>
  const cases: Array<[string, unknown[]]> = [
    ['a string', ['hello']],
    ['a number', [42]],
    ['null', [null]],
    ['an array', [[alice.id]]],
    ['no payload at all', []],
    ['an empty object', [{}]],
    ['userIds a string', [{ userIds: alice.id }]],
    ['an operator as id', [{ userIds: [{ $gt: '' }] }]],
    ['an operator as userIds', [{ userIds: { $ne: null } }]],
    ['short id', [{ userIds: ['abc'] }]],
    ['201 ids', [huge]],
    ['an unknown field', [{ userIds: [], extra: 1 }]],
    ['a deeply nested object', [deep]],
    ['a large junk object', [Object.fromEntries(Array.from({ length: 5000 }, (_, i) => [`k${i}`, 'x'.repeat(20)]))]],
    ['binary', [Buffer.from('binary')]]
  ]
  // Garbage on purpose: outside the typed maps.
  const raw = untyped(socket)
  for (const [name, args] of cases) {
    const ack = await emitRaw(raw, 'presence_query', ...args)
    t.match(ack, { ok: false, error: { code: 'VALIDATION_ERROR', message: String } }, name)
    t.ok(!ack.ok && ack.error.message.length < 2000, `${name}: a bounded message`)
  }
  const fine = await emitAck(socket, 'presence_query', { userIds: [alice.id] })
  t.match(fine, { ok: true, data: { [alice.id]: { online: true } } }, 'the same socket still works')
  // Ids are case-insensitive: an upper-cased id is the same user, answered under its canonical (lower-case) id.
  t.same(await emitAck(socket, 'presence_query', { userIds: [alice.id.toUpperCase()] }), fine, 'an upper-cased id is the same user')
})

t.test('events without an ack, and unknown events, never crash or disconnect', async t => {
  const kit = await startRealtimeApp(t)
  const alice = await signUp(kit.app, 'alice')
  const socket = await kit.connect(alice.accessToken)
  // No acks, garbage and unknown event names on purpose: outside the typed maps.
  const raw = untyped(socket)
  raw.emit('presence_query', { userIds: [alice.id] })
  raw.emit('presence_query', 'garbage, no ack')
  raw.emit('presence_query')
  raw.emit('no_such_event', { anything: true })
  raw.emit('__proto__', {})
  raw.emit('constructor', {})
  raw.emit('toString')
  t.same(await emitRaw(raw, 'no_such_event', {}), { ok: false, error: { code: 'UNKNOWN_EVENT', message: 'No such event' } })
  t.same(await emitRaw(raw, 'hasOwnProperty', {}), { ok: false, error: { code: 'UNKNOWN_EVENT', message: 'No such event' } })
  const ack = await emitAck(socket, 'presence_query', { userIds: [alice.id] })
  t.ok(ack.ok, 'still connected and answering')
  t.ok(socket.connected)
})

t.test('handler errors: AppError keeps its code, anything else is a generic INTERNAL_ERROR', async t => {
  const logged: unknown[] = []
  const log = { error: (entry: unknown) => { logged.push(entry) } } as unknown as FastifyBaseLogger
  const context = { userId: '0123456789abcdef01234567', sid: 'sid', role: 'user' as const, socketId: 'socket-1' }
  const run = async (handle: SocketHandler<'typing'>, payload: unknown = { conversationId: 'c', isTyping: true }): Promise<unknown> =>
    await new Promise(resolve => { void compileEvent('typing', handle, log)(context, [payload, resolve]) })

  t.same(await run(async () => { throw new AppError('FORBIDDEN', 'Not yours') }), { ok: false, error: { code: 'FORBIDDEN', message: 'Not yours' } })
  const crash = await run(async () => { throw new Error('secret internals: connection string mongodb://user:pw@host') })
  t.same(crash, { ok: false, error: { code: 'INTERNAL_ERROR', message: 'Something went wrong; try again' } }, 'no internals leak')
  t.equal(logged.length, 1, 'the crash is logged in full on the server')
  const seen: unknown[] = []
  t.same(await run(async (ctx, payload) => { seen.push(ctx, payload); return {} }, { conversationId: 'ABC', isTyping: false }), { ok: true, data: {} })
  t.same(seen, [context, { conversationId: 'abc', isTyping: false }], 'the handler sees who sent it, and the decoded payload')
  t.same(await run(async () => undefined as unknown as Record<string, never>), { ok: true, data: {} }, 'no data is an empty object')
  let ran = false
  t.match(await run(async () => { ran = true; return {} }, { conversationId: 'c' }), { ok: false, error: { code: 'VALIDATION_ERROR' } })
  t.notOk(ran, 'an invalid payload never reaches the handler')

  const kit = await startRealtimeApp(t)
  t.throws(() => { kit.app.realtime.registerEvents({ typing: async () => ({}) }) },
    /registered twice/, 'a duplicate event name is a programming error')
  const alice = await signUp(kit.app, 'alice')
  const socket = await kit.connect(alice.accessToken)
  untyped(socket).emit('typing', { conversationId: 'nope', isTyping: true })
  t.ok((await emitAck(socket, 'presence_query', { userIds: [alice.id] })).ok, 'an error without an ack is harmless too')
})
