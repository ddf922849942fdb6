/**
 * The socket contract is one table (src/realtime/events.schemas.ts) that types the event maps, validates payloads
 * and names the handlers. The type-level half of this test is checked by `npm run typecheck`: each
 * `@ts-expect-error` line is a misspelt event name that must not compile (if it did compile, the directive itself
 * would be the error). The runtime half checks that every event of the table is served.
 */
import t from 'tap'
import type { Notifier, SocketHandlers } from '../../src/realtime/contracts.js'
import { clientEvents, serverEvents } from '../../src/realtime/events.schemas.js'
import type { ClientToServerEvents, ServerToClientEvents } from 'parley/events'
import { emitRaw, startRealtimeApp, untyped, type ParleyClient } from '../helpers/realtime.js'
import { signUp } from '../helpers/users.js'

/** Never called: it only has to compile (or, on the marked lines, fail to). */
export function misspeltNamesDoNotCompile (notifier: Notifier, socket: ParleyClient): void {
  const handlers: SocketHandlers = {
    typing: async () => ({}),
    // @ts-expect-error a handler for an event the contract does not have
    chat_mesage: async () => ({})
  }
  notifier.toConversation('c', 'typing', { conversationId: 'c', userId: 'u', isTyping: true })
  // @ts-expect-error an emit of an event the contract does not have
  notifier.toConversation('c', 're_mesage', { message: null })
  // @ts-expect-error a payload that does not match its event
  notifier.toUsers(['u'], 'presence', { userId: 'u' })
  // @ts-expect-error a client emit of an event the contract does not have
  socket.emit('chat_mesage', { body: 'hi' }, () => {})
  // @ts-expect-error a listener for a server event the contract does not have
  socket.on('re_mesage', () => {})
  // The maps a client imports from the package are the server's maps.
  const clientSide: keyof ClientToServerEvents = 'chat_message'
  const serverSide: keyof ServerToClientEvents = 're_message'
  void handlers, clientSide, serverSide
}

t.test('every client event of the contract has a handler, and no event is served outside it', async t => {
  const kit = await startRealtimeApp(t)
  const alice = await signUp(kit.app, 'alice')
  const socket = untyped(await kit.connect(alice.accessToken))
  for (const name of Object.keys(clientEvents)) {
    const ack = await emitRaw(socket, name, { unexpected: true })
    // Every payload schema refuses an unknown field, so a served event answers VALIDATION_ERROR, never UNKNOWN_EVENT.
    t.match(ack, { ok: false, error: { code: 'VALIDATION_ERROR' } }, `${name} is served`)
  }
  t.match(await emitRaw(socket, 'member_joined', {}), { ok: false, error: { code: 'UNKNOWN_EVENT' } }, 'a server event is not a client event')
  t.ok('member_joined' in serverEvents && 'member_left' in serverEvents, 'group membership events are part of the contract')
})
