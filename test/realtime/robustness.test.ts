/**
 * Bad input over the socket never crashes the server and never goes unanswered: garbage payloads get
 * VALIDATION_ERROR acks, events without an ack change nothing, unknown events are ignored (an ack, if sent,
 * says UNKNOWN_EVENT), and handler failures map to coded acks (AppError) or a generic INTERNAL_ERROR.
 */
import t from 'tap'
import { Type } from 'typebox'
import { socketEvent } from '../../src/realtime/contracts.js'
import { AppError } from '../../src/shared/errors.js'
import { startRealtimeApp } from '../helpers/realtime.js'

const ID = /^[0-9a-f]{24}$/

t.test('garbage presence_query payloads get VALIDATION_ERROR acks and the socket keeps working', async t => {
  const kit = await startRealtimeApp(t)
  const alice = await kit.registerUser('alice')
  const socket = await kit.connect(alice.accessToken)
  const huge = { userIds: Array.from({ length: 201 }, (_, i) => i.toString(16).padStart(24, '0')) }
  const deep: Record<string, unknown> = {}
  let cursor = deep
  for (let i = 0; i < 200; i++) cursor = (cursor.next = {}) as Record<string, unknown>
  const cases: Array<[string, unknown[]]> = [
    ['a string', ['hello']],
    ['a number', [42]],
    ['null', [null]],
    ['an array', [[alice.user.id]]],
    ['no payload at all', []],
    ['an empty object', [{}]],
    ['userIds a string', [{ userIds: alice.user.id }]],
    ['an operator as id', [{ userIds: [{ $gt: '' }] }]],
    ['an operator as userIds', [{ userIds: { $ne: null } }]],
    ['uppercase hex id', [{ userIds: [alice.user.id.toUpperCase()] }]],
    ['short id', [{ userIds: ['abc'] }]],
    ['201 ids', [huge]],
    ['an unknown field', [{ userIds: [], extra: 1 }]],
    ['a deeply nested object', [deep]],
    ['a large junk object', [Object.fromEntries(Array.from({ length: 5000 }, (_, i) => [`k${i}`, 'x'.repeat(20)]))]],
    ['binary', [Buffer.from('binary')]]
  ]
  for (const [name, args] of cases) {
    const ack = await kit.emitAck(socket, 'presence_query', ...args)
    t.match(ack, { ok: false, error: { code: 'VALIDATION_ERROR', message: String } }, name)
    t.ok(!ack.ok && ack.error.message.length < 2000, `${name}: a bounded message`)
  }
  const fine = await kit.emitAck(socket, 'presence_query', { userIds: [alice.user.id] })
  t.match(fine, { ok: true, data: { [alice.user.id]: { online: true } } }, 'the same socket still works')
})

t.test('events without an ack, and unknown events, never crash or disconnect', async t => {
  const kit = await startRealtimeApp(t)
  const alice = await kit.registerUser('alice')
  const socket = await kit.connect(alice.accessToken)
  socket.emit('presence_query', { userIds: [alice.user.id] })
  socket.emit('presence_query', 'garbage, no ack')
  socket.emit('presence_query')
  socket.emit('no_such_event', { anything: true })
  socket.emit('__proto__', {})
  socket.emit('constructor', {})
  socket.emit('toString')
  t.same(await kit.emitAck(socket, 'no_such_event', {}), { ok: false, error: { code: 'UNKNOWN_EVENT', message: 'No such event' } })
  t.same(await kit.emitAck(socket, 'hasOwnProperty', {}), { ok: false, error: { code: 'UNKNOWN_EVENT', message: 'No such event' } })
  const ack = await kit.emitAck(socket, 'presence_query', { userIds: [alice.user.id] })
  t.ok(ack.ok, 'still connected and answering')
  t.ok(socket.connected)
})

t.test('handler errors: AppError keeps its code, anything else is a generic INTERNAL_ERROR', async t => {
  const kit = await startRealtimeApp(t)
  const contexts: unknown[] = []
  kit.app.realtime.registerEvents({
    test_app_error: socketEvent({
      schema: Type.Object({}),
      handle: async () => { throw new AppError('FORBIDDEN', 'Not yours') }
    }),
    test_crash: socketEvent({
      schema: Type.Object({}),
      handle: async () => { throw new Error('secret internals: connection string mongodb://user:pw@host') }
    }),
    test_context: socketEvent({
      schema: Type.Object({ n: Type.Integer() }),
      handle: async (context, payload) => { contexts.push(context); return { doubled: payload.n * 2 } }
    }),
    test_undefined: socketEvent({ schema: Type.Object({}), handle: async () => undefined })
  })
  t.throws(() => { kit.app.realtime.registerEvents({ test_crash: socketEvent({ schema: Type.Object({}), handle: async () => 1 }) }) },
    /registered twice/, 'a duplicate event name is a programming error')

  const alice = await kit.registerUser('alice')
  const socket = await kit.connect(alice.accessToken)
  t.same(await kit.emitAck(socket, 'test_app_error', {}), { ok: false, error: { code: 'FORBIDDEN', message: 'Not yours' } })
  const crash = await kit.emitAck(socket, 'test_crash', {})
  t.same(crash, { ok: false, error: { code: 'INTERNAL_ERROR', message: 'Something went wrong; try again' } }, 'no internals leak')
  t.same(await kit.emitAck(socket, 'test_context', { n: 21 }), { ok: true, data: { doubled: 42 } })
  t.match(contexts, [{ userId: alice.user.id, sid: ID, role: 'user', socketId: socket.id }], 'the handler sees who sent it')
  t.same(await kit.emitAck(socket, 'test_undefined', {}), { ok: true, data: {} }, 'no data is an empty object')
  socket.emit('test_crash', {})
  t.ok((await kit.emitAck(socket, 'test_context', { n: 1 })).ok, 'a crash without an ack is harmless too')
})
