/** Typing with auto-stop, read marks that only move forward, and the presence cache. */
import t from 'tap'
import type { ReceiptEvent, TypingEvent } from '../../client/src/index.js'
import { waitFor } from '../helpers/wait.js'
import { directClients, waitForStored } from './client-kit.js'

t.test('typing stops by itself, read marks move forward only, presence is cached', async t => {
  const kit = await directClients(t)
  const alice = await kit.client(kit.alice)
  const bob = await kit.client(kit.bob)
  const typing: TypingEvent[] = []
  bob.extras.on('typing', event => { typing.push(event) })
  alice.extras.typing(kit.id)
  alice.extras.typing(kit.id) // within 2 s: not sent again
  await waitFor(() => typing.length >= 1, 5000, 'typing')
  t.match(typing[0], { conversationId: kit.id, userId: kit.alice.id, isTyping: true })
  await waitFor(() => typing.some(e => !e.isTyping), 6000, 'typing stopped')
  t.same(typing.map(e => e.isTyping), [true, false], 'one start, then the automatic stop')

  const receipts: ReceiptEvent[] = []
  alice.extras.on('receipt', event => { receipts.push(event) })
  alice.send(kit.id, 'one')
  alice.send(kit.id, 'two')
  await waitForStored(bob, kit.id, 2)
  t.equal(await bob.extras.markRead(kit.id, 2), true)
  t.equal(await bob.extras.markRead(kit.id, 1), false, 'backwards is not sent')
  await waitFor(() => receipts.some(r => r.kind === 'read'), 5000, 'receipt')
  t.match(receipts.find(r => r.kind === 'read'), { conversationId: kit.id, userId: kit.bob.id, seq: 2 })

  bob.extras.typing(kit.id)
  bob.extras.stopTyping(kit.id)
  bob.extras.stopTyping(kit.id) // nothing to stop

  const presence = new Promise<boolean>(resolve => { alice.extras.on('presence', (userId, p) => { if (userId === kit.bob.id) resolve(p.online) }) })
  bob.close()
  t.equal(await presence, false, 'bob went offline')
  t.match(alice.extras.presence(kit.bob.id), { online: false, lastSeenAt: String })
  t.equal(alice.extras.presence('000000000000000000000000'), undefined)
  t.equal(await bob.extras.markRead(kit.id, 5), false, 'no socket, nothing sent')
})
