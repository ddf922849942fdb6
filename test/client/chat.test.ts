/**
 * Two users chat through two ParleyClients: each sees every message once, in seq order, with pending sends
 * replaced by the stored copies; a client logged in with a password works as one given tokens.
 */
import t from 'tap'
import { directClients, gapless, stored, waitForStored } from './client-kit.js'

t.test('two clients chat both ways: every message once, in seq order, in each sender\'s order', async t => {
  const kit = await directClients(t)
  const alice = await kit.client(kit.alice, { login: true })
  const bob = await kit.client(kit.bob)
  t.equal(alice.userId, kit.alice.id, 'login knows the user')
  t.equal(bob.userId, kit.bob.id, 'useTokens asks the server who it is')
  const updates: number[] = []
  bob.on('timeline', (conversationId, messages) => { if (conversationId === kit.id) updates.push(messages.length) })

  const first = alice.send(kit.id, 'a0')
  t.match(first, { status: 'pending', body: 'a0', senderId: kit.alice.id, clientMsgId: /^[0-9a-f-]{36}$/ }, 'send returns a pending local message at once')
  t.match(alice.messages(kit.id), [{ status: 'pending', clientMsgId: first.clientMsgId }], 'shown as pending')
  for (let i = 0; i < 20; i++) {
    if (i > 0) alice.send(kit.id, `a${i}`)
    bob.send(kit.id, `b${i}`)
  }
  await waitForStored(alice, kit.id, 40)
  await waitForStored(bob, kit.id, 40)
  for (const [name, client] of [['alice', alice], ['bob', bob]] as const) {
    const messages = client.messages(kit.id)
    t.equal(messages.length, 40, `${name} shows 40`)
    t.ok(gapless(messages), `${name}: seq 1..40 in order`)
    const bodies = stored(messages).map(m => m.body)
    t.same(bodies.filter(b => b.startsWith('a')), Array.from({ length: 20 }, (_, i) => `a${i}`), `${name}: alice's in her order`)
    t.same(bodies.filter(b => b.startsWith('b')), Array.from({ length: 20 }, (_, i) => `b${i}`), `${name}: bob's in his order`)
  }
  t.equal(stored(alice.messages(kit.id)).find(m => m.body === 'a0')?.clientMsgId, first.clientMsgId, 'the pending copy was replaced by the stored one')
  t.equal(await kit.app.models.Message.countDocuments({ conversationId: kit.id }), 40, 'stored once each')
  t.ok(updates.length > 0, 'the timeline event fired')
  t.equal(alice.pending, 0, 'nothing left in the outbox')
})
