/**
 * The Notifier and rooms: sockets join the rooms the ConversationRoomsResolver names at connect, emits carry
 * `action`, the sender can be skipped, a socket in several rooms hears once, and joins/leaves move every socket of
 * a user, also one still connecting. A failing resolver disconnects; CORS follows config.
 */
import t from 'tap'
import type { ClientSocket } from '../helpers/realtime.js'
import { startRealtimeApp } from '../helpers/realtime.js'

async function until (condition: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !condition(); i++) await new Promise(resolve => setTimeout(resolve, 10))
  if (!condition()) throw new Error('condition never became true')
}

function record (socket: ClientSocket, event: string): unknown[] {
  const seen: unknown[] = []
  socket.on(event, (payload: unknown) => { seen.push(payload) })
  return seen
}

t.test('resolver rooms, action added, sender skipped, one delivery per socket, joins and leaves', async t => {
  const kit = await startRealtimeApp(t)
  const alice = await kit.registerUser('alice')
  const bob = await kit.registerUser('bob')
  const rooms: Record<string, string[]> = { [alice.user.id]: ['c1', 'c2'], [bob.user.id]: ['c1'] }
  kit.app.realtime.setConversationRooms(async userId => rooms[userId] ?? [])
  const { notifier } = kit.app.realtime
  const [a1, a2, b1] = await Promise.all([kit.connect(alice.accessToken), kit.connect(alice.accessToken), kit.connect(bob.accessToken)])
  const seen = { a1: record(a1, 'ping_test'), a2: record(a2, 'ping_test'), b1: record(b1, 'ping_test') }
  /** A round trip per socket: every emit made before it has arrived. */
  const settle = async (): Promise<void> => { await Promise.all([a1, a2, b1].map(s => kit.emitAck(s, 'presence_query', { userIds: [] }))) }

  notifier.toConversation('c1', 'ping_test', { n: 1, action: 'overridden' })
  notifier.toConversation('c2', 'ping_test', { n: 2 }, { exceptSocketId: a1.id })
  notifier.toConversations(['c1', 'c2', 'c1'], 'ping_test', { n: 3 })
  notifier.toUsers([bob.user.id, bob.user.id], 'ping_test', { n: 4 })
  await settle()
  t.same(seen.a1, [{ n: 1, action: 'ping_test' }, { n: 3, action: 'ping_test' }], 'a1: c1, not the skipped c2, the multi-room emit once')
  t.same(seen.a2, [{ n: 1, action: 'ping_test' }, { n: 2, action: 'ping_test' }, { n: 3, action: 'ping_test' }])
  t.same(seen.b1, [{ n: 1, action: 'ping_test' }, { n: 3, action: 'ping_test' }, { n: 4, action: 'ping_test' }], 'b1: c1 and its user room')

  await notifier.joinConversation([bob.user.id], 'c2')
  await notifier.leaveConversation([alice.user.id], 'c1')
  await notifier.joinConversation([], 'c9')
  notifier.toConversation('c2', 'ping_test', { n: 5 })
  notifier.toConversation('c1', 'ping_test', { n: 6 })
  notifier.toUsers([], 'ping_test', { n: 7 })
  await settle()
  t.same(seen.a1.slice(2), [{ n: 5, action: 'ping_test' }], 'every alice socket left c1')
  t.same(seen.a2.slice(3), [{ n: 5, action: 'ping_test' }])
  t.same(seen.b1.slice(3), [{ n: 5, action: 'ping_test' }, { n: 6, action: 'ping_test' }], 'bob joined c2, kept c1')
})

t.test('a failing rooms resolver disconnects the socket, and the server carries on', async t => {
  const kit = await startRealtimeApp(t)
  const alice = await kit.registerUser('alice')
  let fail = true
  kit.app.realtime.setConversationRooms(async () => { if (fail) throw new Error('database down'); return [] })
  const socket = await kit.connect(alice.accessToken)
  await until(() => !socket.connected)
  t.equal(kit.app.realtime.io.sockets.sockets.size, 0, 'a socket without its rooms is not served')
  fail = false
  const again = await kit.connect(alice.accessToken)
  t.ok((await kit.emitAck(again, 'presence_query', { userIds: [] })).ok)
})

t.test('a member added while the socket is connecting still gets the room', async t => {
  const kit = await startRealtimeApp(t)
  const alice = await kit.registerUser('alice')
  let release: () => void = () => {}
  const gate = new Promise<void>(resolve => { release = resolve })
  // The resolver's read happens before the membership change below and answers without it.
  kit.app.realtime.setConversationRooms(async () => { await gate; return [] })
  const socket = await kit.connect(alice.accessToken)
  await kit.app.realtime.notifier.joinConversation([alice.user.id], 'late')
  release()
  const heard = kit.nextEvent(socket, 'ping_test')
  // An ack round trip first: events wait for the rooms, so this answers only once they are joined.
  t.ok((await kit.emitAck(socket, 'presence_query', { userIds: [] })).ok)
  kit.app.realtime.notifier.toConversation('late', 'ping_test', { n: 1 })
  t.same(await heard, { n: 1, action: 'ping_test' })
})

t.test('CORS for the Socket.IO endpoint follows CORS_ORIGINS', async t => {
  const kit = await startRealtimeApp(t, { CORS_ORIGINS: 'https://app.example.com' })
  const handshake = `${kit.url}/socket.io/?EIO=4&transport=polling`
  const allowed = await fetch(handshake, { headers: { origin: 'https://app.example.com' } })
  t.equal(allowed.status, 200)
  t.equal(allowed.headers.get('access-control-allow-origin'), 'https://app.example.com')
  await allowed.text()
  const other = await fetch(handshake, { headers: { origin: 'https://evil.example.com' } })
  t.not(other.headers.get('access-control-allow-origin'), 'https://evil.example.com')
  await other.text()
})
