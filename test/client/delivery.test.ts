/**
 * The outbox and catch-up guarantees: a send while disconnected is delivered once after the reconnect; a transport
 * cut mid-burst loses and duplicates nothing; what a receiver missed offline arrives through sync; a live event
 * lost in transit leaves a gap that is filled from the server before later messages are shown.
 */
import t from 'tap'
import type { ParleySocket } from '../../client/src/index.js'
import type { IoFactory } from '../../client/src/connection.js'
import { io } from 'socket.io-client'
import { api } from '../helpers/rest.js'
import { send as restSend } from '../helpers/conversations.js'
import { signUp } from '../helpers/users.js'
import { sleep, waitFor } from '../helpers/wait.js'
import { directClients, gapless, stored, waitForStored } from './client-kit.js'

t.test('a send while disconnected is delivered after the reconnect, exactly once', async t => {
  const kit = await directClients(t)
  const alice = await kit.client(kit.alice)
  const bob = await kit.client(kit.bob)
  alice.socket.disconnect()
  t.notOk(alice.connected)
  const local = alice.send(kit.id, 'sent offline')
  await sleep(200)
  t.match(alice.messages(kit.id), [{ status: 'pending', clientMsgId: local.clientMsgId }], 'still pending while offline')
  t.equal(await kit.app.models.Message.countDocuments({ conversationId: kit.id }), 0, 'nothing stored yet')
  alice.socket.connect()
  await waitForStored(alice, kit.id, 1)
  await waitForStored(bob, kit.id, 1)
  t.match(bob.messages(kit.id), [{ status: 'stored', seq: 1, body: 'sent offline', clientMsgId: local.clientMsgId }])
  t.match(alice.messages(kit.id), [{ status: 'stored', seq: 1, clientMsgId: local.clientMsgId }], 'the pending copy became the stored one')
  t.equal(await kit.app.models.Message.countDocuments({ clientMsgId: local.clientMsgId }), 1, 'stored once')
})

t.test('a transport cut mid-burst of 50 sends loses and duplicates nothing', async t => {
  const kit = await directClients(t)
  const alice = await kit.client(kit.alice)
  const bob = await kit.client(kit.bob)
  let reconnects = 0
  alice.on('connected', () => { reconnects++ })
  const sent = []
  for (let i = 0; i < 50; i++) {
    sent.push(alice.send(kit.id, `m${i}`))
    if (i === 10 || i === 30) alice.socket.io.engine.close()
    if (i % 5 === 0) await sleep(5)
  }
  await waitForStored(alice, kit.id, 50, 30_000)
  await waitForStored(bob, kit.id, 50, 30_000)
  t.ok(reconnects >= 1, `reconnected (${reconnects})`)
  for (const [name, client] of [['alice', alice], ['bob', bob]] as const) {
    const messages = client.messages(kit.id)
    t.equal(messages.length, 50, `${name} shows 50`)
    t.ok(gapless(messages), `${name}: seq 1..50`)
    t.same(stored(messages).map(m => m.body), sent.map(m => m.body), `${name}: in send order`)
  }
  t.equal(await kit.app.models.Message.countDocuments({ conversationId: kit.id }), 50, 'no message stored twice')
  const ids = await kit.app.models.Message.distinct('clientMsgId', { conversationId: kit.id })
  t.same([...ids].sort(), sent.map(m => m.clientMsgId).sort(), 'exactly the clientMsgIds that were sent')
})

t.test('what a receiver missed while offline arrives through sync, after its cursor', async t => {
  const kit = await directClients(t)
  const alice = await kit.client(kit.alice)
  const bob = await kit.client(kit.bob)
  alice.send(kit.id, 'before')
  await waitForStored(bob, kit.id, 1)
  bob.socket.disconnect()
  for (let i = 0; i < 5; i++) alice.send(kit.id, `while away ${i}`)
  await waitForStored(alice, kit.id, 6)
  t.equal(stored(bob.messages(kit.id)).length, 1, 'bob has only the first')
  const synced = new Promise<void>(resolve => { const off = bob.on('synced', () => { off(); resolve() }) })
  bob.socket.connect()
  await synced
  t.equal(bob.messages(kit.id).length, 6, 'caught up by the sync at connect')
  t.ok(gapless(bob.messages(kit.id)))

  // The client confirmed what it holds: the server's delivered mark followed.
  const deliveredSeq = async (): Promise<number> => (await bob.session.request('GET', `/api/conversations/${kit.id}`)).deliveredSeq
  await waitFor(async () => await deliveredSeq() === 6, 5000, 'deliveredSeq 6')
  t.equal(await deliveredSeq(), 6, 'delivered marks sent')

  // A device with no cache at all gets what no device confirmed, paged (over 100 messages).
  bob.close()
  for (let i = 0; i < 120; i++) await restSend(kit.app, kit.alice, kit.id, `bulk ${i}`)
  const fresh = await kit.client(kit.bob)
  await waitForStored(fresh, kit.id, 120)
  const seqs = stored(fresh.messages(kit.id)).map(m => m.seq)
  t.same(seqs, Array.from({ length: 120 }, (_, i) => i + 7), 'a fresh client pages through sync: seq 7..126, once each')
})

t.test('a live message lost in transit: the gap is filled from the server before later messages show', async t => {
  const kit = await directClients(t)
  // Drops bob's re_message for seq 2, as a lossy path would: the socket is real, the loss is injected.
  const lossy: IoFactory = (url, options) => {
    const socket = io(url, options) as unknown as ParleySocket
    const on = socket.on.bind(socket) as (event: string, listener: (...args: any[]) => void) => ParleySocket
    ;(socket as any).on = (event: string, listener: (...args: any[]) => void) => on(event, event !== 're_message'
      ? listener
      : (payload: { message: { seq: number } }) => { if (payload.message.seq !== 2) listener(payload) })
    return socket
  }
  const alice = await kit.client(kit.alice)
  const bob = await kit.client(kit.bob, { io: lossy })
  const views: number[][] = []
  bob.on('timeline', (_id, messages) => { views.push(stored(messages).map(m => m.seq)) })
  for (let i = 1; i <= 4; i++) alice.send(kit.id, `m${i}`)
  await waitForStored(bob, kit.id, 4)
  t.same(stored(bob.messages(kit.id)).map(m => m.body), ['m1', 'm2', 'm3', 'm4'], 'seq 2 came from the fill')
  t.ok(views.every(seqs => seqs.every((seq, i) => seq === i + 1)), 'no view ever showed a message above a gap')
})

t.test('edits and deletes are applied; history loads older pages by seq', async t => {
  const kit = await directClients(t)
  const alice = await kit.client(kit.alice)
  const bob = await kit.client(kit.bob)
  alice.send(kit.id, 'original')
  alice.send(kit.id, 'doomed')
  await waitForStored(bob, kit.id, 2)
  await waitForStored(alice, kit.id, 2)
  const [first, second] = stored(alice.messages(kit.id))
  const edit = await alice.session.request('PATCH', `/api/messages/${first.id}`, { body: 'edited' })
  t.equal(edit.body, 'edited')
  await alice.session.request('DELETE', `/api/messages/${second.id}`)
  await waitFor(() => stored(bob.messages(kit.id))[1]?.deletedAt !== null && stored(bob.messages(kit.id))[0]?.body === 'edited', 5000, 'edit and delete')
  t.match(stored(bob.messages(kit.id)), [{ seq: 1, body: 'edited', editedAt: String }, { seq: 2, body: '', deletedAt: String }])

  // A reader with nothing undelivered: its first sync brings nothing, history comes from REST pages.
  const carol = await signUp(kit.app, 'carol')
  const { openDirect } = await import('../helpers/conversations.js')
  const other = await openDirect(kit.app, kit.alice, carol)
  for (let i = 1; i <= 70; i++) await restSend(kit.app, kit.alice, other, `h${i}`)
  await kit.app.inject({ method: 'POST', url: `/api/conversations/${other}/read`, headers: { authorization: `Bearer ${carol.accessToken}` }, payload: { seq: 70 } })
  const reader = await kit.client(carol)
  t.equal(reader.messages(other).length, 0, 'nothing undelivered, nothing synced')
  t.equal(await reader.loadOlder(other, 50), true, 'the latest page, with older ones left')
  t.same(stored(reader.messages(other)).map(m => m.seq), Array.from({ length: 50 }, (_, i) => i + 21))
  // An edit of a message older than the loaded page is not shown on its own (it would sit below a gap)...
  const oldest = (await api(kit.app, kit.alice)('GET', `/api/conversations/${other}/messages?afterSeq=0&limit=1`)).json().items[0]
  const edited = new Promise<void>(resolve => { reader.socket.once('message_updated', () => { resolve() }) })
  await api(kit.app, kit.alice)('PATCH', `/api/messages/${oldest.id}`, { body: 'h1, edited' })
  await edited
  t.same(stored(reader.messages(other)).map(m => m.seq), Array.from({ length: 50 }, (_, i) => i + 21), 'the view is unchanged')
  t.equal(await reader.loadOlder(other, 50), false, 'the oldest page')
  t.ok(gapless(reader.messages(other)), 'seq 1..70 once each')
  t.equal(reader.messages(other).length, 70)
  t.equal(stored(reader.messages(other))[0].body, 'h1, edited', '...and its page brings its latest state')
})

t.test('resync from the server makes the client catch up on what its live events missed', async t => {
  const kit = await directClients(t)
  let deaf = false
  // While `deaf`, bob's live messages are lost (as during a Redis outage between instances).
  const lossy: IoFactory = (url, options) => {
    const socket = io(url, options) as unknown as ParleySocket
    const on = socket.on.bind(socket) as (event: string, listener: (...args: any[]) => void) => ParleySocket
    ;(socket as any).on = (event: string, listener: (...args: any[]) => void) => on(event, event !== 're_message'
      ? listener
      : (payload: unknown) => { if (!deaf) listener(payload) })
    return socket
  }
  const alice = await kit.client(kit.alice)
  const bob = await kit.client(kit.bob, { io: lossy })
  alice.send(kit.id, 'heard')
  await waitForStored(bob, kit.id, 1)
  deaf = true
  for (let i = 0; i < 3; i++) alice.send(kit.id, `missed ${i}`)
  await waitForStored(alice, kit.id, 4)
  await sleep(300)
  t.equal(bob.messages(kit.id).length, 1, 'bob missed them (no gap to notice: nothing came after)')
  kit.app.realtime.io.emit('resync', { action: 'resync', reason: 'cluster_reconnected' })
  await waitForStored(bob, kit.id, 4)
  t.same(stored(bob.messages(kit.id)).map(m => m.body), ['heard', 'missed 0', 'missed 1', 'missed 2'], 'resync caught up')

  alice.send(kit.id, 'missed again')
  await waitForStored(alice, kit.id, 5)
  // The app may sync too; a second request while one runs resolves after one more run.
  await Promise.all([bob.sync(), bob.sync()])
  t.equal(stored(bob.messages(kit.id)).at(-1)?.body, 'missed again', 'sync() caught up')
  t.equal(bob.messages(kit.id).length, 5)
})
