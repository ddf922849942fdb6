/**
 * The Notifier and rooms: sockets join the rooms the ConversationRoomsResolver names at connect, emits carry
 * `action`, the sender can be skipped, a socket in several rooms hears once, and joins/leaves move every socket of
 * a user, also one still connecting. A failing resolver disconnects; CORS follows config.
 */
import t from 'tap'
import { collect, emitAck, nextEvent, startRealtimeApp } from '../helpers/realtime.js'
import { signUp } from '../helpers/users.js'
import { waitFor } from '../helpers/wait.js'

// The notifier is exercised with `typing` events whose conversationId numbers them.
const mark = (n: number) => ({ conversationId: `n${n}`, userId: 'u', isTyping: true })
const heard = (n: number) => ({ ...mark(n), action: 'typing' })

t.test('resolver rooms, action added, sender skipped, one delivery per socket, joins and leaves', async t => {
  const kit = await startRealtimeApp(t)
  const alice = await signUp(kit.app, 'alice')
  const bob = await signUp(kit.app, 'bob')
  const rooms: Record<string, string[]> = { [alice.id]: ['c1', 'c2'], [bob.id]: ['c1'] }
  kit.app.realtime.setConversationRooms(async userId => rooms[userId] ?? [])
  const { notifier } = kit.app.realtime
  const [a1, a2, b1] = await Promise.all([kit.connect(alice.accessToken), kit.connect(alice.accessToken), kit.connect(bob.accessToken)])
  const seen = { a1: collect(a1, 'typing'), a2: collect(a2, 'typing'), b1: collect(b1, 'typing') }
  /** A round trip per socket: every emit made before it has arrived. */
  const settle = async (): Promise<void> => { await Promise.all([a1, a2, b1].map(s => emitAck(s, 'presence_query', { userIds: [] }))) }

  const overridden = { ...mark(1), action: 'overridden' }
  notifier.toConversation('c1', 'typing', overridden)
  notifier.toConversation('c2', 'typing', mark(2), { exceptSocketId: a1.id })
  notifier.toConversations(['c1', 'c2', 'c1'], 'typing', mark(3))
  notifier.toUsers([bob.id, bob.id], 'typing', mark(4))
  await settle()
  t.same(seen.a1, [heard(1), heard(3)], 'a1: c1, not the skipped c2, the multi-room emit once')
  t.same(seen.a2, [heard(1), heard(2), heard(3)])
  t.same(seen.b1, [heard(1), heard(3), heard(4)], 'b1: c1 and its user room')

  await notifier.joinConversation([bob.id], 'c2')
  await notifier.leaveConversation([alice.id], 'c1')
  await notifier.joinConversation([], 'c9')
  notifier.toConversation('c2', 'typing', mark(5))
  notifier.toConversation('c1', 'typing', mark(6))
  notifier.toUsers([], 'typing', mark(7))
  await settle()
  t.same(seen.a1.slice(2), [heard(5)], 'every alice socket left c1')
  t.same(seen.a2.slice(3), [heard(5)])
  t.same(seen.b1.slice(3), [heard(5), heard(6)], 'bob joined c2, kept c1')
})

t.test('a failing rooms resolver disconnects the socket, and the server carries on', async t => {
  const kit = await startRealtimeApp(t)
  const alice = await signUp(kit.app, 'alice')
  let fail = true
  kit.app.realtime.setConversationRooms(async () => { if (fail) throw new Error('database down'); return [] })
  const socket = await kit.connect(alice.accessToken)
  await waitFor(() => !socket.connected)
  t.equal(kit.app.realtime.io.sockets.sockets.size, 0, 'a socket without its rooms is not served')
  fail = false
  const again = await kit.connect(alice.accessToken)
  t.ok((await emitAck(again, 'presence_query', { userIds: [] })).ok)
})

t.test('a member added while the socket is connecting still gets the room', async t => {
  const kit = await startRealtimeApp(t)
  const alice = await signUp(kit.app, 'alice')
  let release: () => void = () => {}
  const gate = new Promise<void>(resolve => { release = resolve })
  // The resolver's read happens before the membership change below and answers without it.
  kit.app.realtime.setConversationRooms(async () => { await gate; return [] })
  const socket = await kit.connect(alice.accessToken)
  await kit.app.realtime.notifier.joinConversation([alice.id], 'late')
  release()
  const arrived = nextEvent(socket, 'typing')
  // An ack round trip first: events wait for the rooms, so this answers only once they are joined.
  t.ok((await emitAck(socket, 'presence_query', { userIds: [] })).ok)
  kit.app.realtime.notifier.toConversation('late', 'typing', mark(1))
  t.same(await arrived, heard(1))
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
