// The two Socket.IO adapters over Redis (REDIS_ADAPTER): the sharded one (default, Redis 7 sharded pub/sub) and the
// classic one. Both deliver across instances, apply joins to local sockets at once, and answer cluster-wide requests.
// With the sharded one an instance subscribes only to the rooms its own sockets are in, so an instance without a
// member of a conversation is not subscribed to its channel (Redis says so: PUBSUB SHARDNUMSUB) and does no work
// for its messages; the room's channel goes when its last local socket leaves.
import t from 'tap'
import { startCluster, type TestCluster } from '../helpers/cluster.js'
import { openDirect } from '../helpers/conversations.js'
import { emitAck, nextEvent } from '../helpers/realtime.js'
import { signUp } from '../helpers/users.js'
import { waitFor } from '../helpers/wait.js'

/** How many subscribers Redis counts on a sharded channel (RESP reply of PUBSUB SHARDNUMSUB parsed). */
async function shardSubscribers (cluster: TestCluster, channel: string): Promise<number> {
  const reply = await cluster.redis.command(`PUBSUB SHARDNUMSUB ${channel}`)
  const numbers = reply.split('\r\n').filter(line => line.startsWith(':'))
  return Number(numbers[0]?.slice(1) ?? NaN)
}

const roomChannel = (room: string): string => `parley-socket.io#/#${room}#`

for (const mode of ['sharded', 'classic'] as const) {
  t.test(`${mode}: delivery across instances, local joins at once, cluster-wide fetchSockets`, async t => {
    const cluster = await startCluster(t, { instances: 3, env: { REDIS_ADAPTER: mode, RATE_LIMIT_MESSAGES: '0' } })
    const [A, B, C] = cluster.instances
    t.equal(A.app.config.redisAdapter, mode)
    const alice = await signUp(A.app, 'alice')
    const bob = await signUp(B.app, 'bob')
    const carol = await signUp(C.app, 'carol')
    const aliceA = await cluster.connect(A, alice.accessToken)
    const bobB = await cluster.connect(B, bob.accessToken)
    await cluster.connect(C, carol.accessToken)

    const told = nextEvent(bobB, 'conversation_updated')
    const conversationId = await openDirect(A.app, alice, bob)
    const room = `conversation:${conversationId}`
    t.ok(A.app.realtime.io.of('/').adapter.rooms.get(room)?.has(aliceA.id ?? ''), 'the creator joined at once')
    await told
    await waitFor(() => B.app.realtime.io.of('/').adapter.rooms.get(room)?.size === 1, 5000, 'bob in the room on B')

    const arrived = nextEvent(bobB, 're_message')
    const ack = await emitAck(aliceA, 'chat_message', { conversationId, body: `over the ${mode} adapter` })
    t.equal(ack.ok, true)
    t.equal((await arrived).message.body, `over the ${mode} adapter`, 'delivered on the other instance')

    const everywhere = await A.app.realtime.io.fetchSockets()
    t.equal(everywhere.length, 3, 'fetchSockets answers with every instance\'s sockets')
    t.equal((await C.app.realtime.io.local.fetchSockets()).length, 1, 'a local fetch stays local')

    if (mode === 'sharded') {
      t.equal(await shardSubscribers(cluster, 'parley-socket.io#/#'), 3, 'every instance is on the main channel')
      t.equal(await shardSubscribers(cluster, roomChannel(room)), 2, 'only A and B are on the conversation\'s channel, not C')
      bobB.disconnect()
      await waitFor(async () => await shardSubscribers(cluster, roomChannel(room)) === 1, 5000, 'B leaving the room channel')
      t.pass('the channel goes with the last local socket in the room')
    } else {
      t.equal(await shardSubscribers(cluster, roomChannel(room)), 0, 'the classic adapter uses no sharded channels')
    }
  })
}
