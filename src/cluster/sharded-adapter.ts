/**
 * The Socket.IO adapter on Redis 7 sharded pub/sub (`createShardedAdapter` of @socket.io/redis-adapter, dynamic
 * subscription mode): an instance subscribes to a channel per room its own sockets are in, and a broadcast to one
 * room is published on that room's channel, so an instance with no member of a conversation does no work for its
 * messages. Requests answered by every instance (serverSideEmit with an ack, fetchSockets) go on the namespace's
 * main channel, which every instance subscribes to.
 *
 * One fix, the same as the classic adapter's subclass in socket-adapter.ts: the base ClusterAdapter applies
 * `socketsJoin`, `socketsLeave` and `disconnectSockets` to local sockets only after the publish has reached Redis,
 * so late, and never while Redis is down (the publish waits in the offline queue). Here the local part is applied at
 * once and the request is published behind it; the adapter already ignores its own messages. And a local-only
 * `fetchSockets` stays local (the base asks Redis for the number of instances first, and fails while it is down).
 */
import { createShardedAdapter } from '@socket.io/redis-adapter'
import { Adapter, MessageType, type ClusterAdapter } from 'socket.io-adapter'
import type { Cluster } from './cluster.types.js'

type Namespace = ConstructorParameters<typeof Adapter>[0]
type BroadcastOptions = Parameters<Adapter['addSockets']>[0]

/** The wire form of broadcast options (what ClusterAdapter's own encodeOptions makes). */
const encodeOptions = (opts: BroadcastOptions): { rooms: string[], except: string[], flags: BroadcastOptions['flags'] } =>
  ({ rooms: [...opts.rooms], except: [...(opts.except ?? [])], flags: opts.flags })

interface Publisher { publish: (message: { type: MessageType, data: unknown }) => void }

/** Makes `adapter` apply joins, leaves and disconnects locally first (synchronously: before the first await), then publish them without waiting. */
function applyLocallyFirst (adapter: ClusterAdapter): void {
  const publish = (type: MessageType, data: unknown): void => { (adapter as unknown as Publisher).publish({ type, data }) }
  adapter.addSockets = async (opts, rooms) => {
    Adapter.prototype.addSockets.call(adapter, opts, rooms)
    if (opts.flags?.local !== true) publish(MessageType.SOCKETS_JOIN, { opts: encodeOptions(opts), rooms })
  }
  adapter.delSockets = async (opts, rooms) => {
    Adapter.prototype.delSockets.call(adapter, opts, rooms)
    if (opts.flags?.local !== true) publish(MessageType.SOCKETS_LEAVE, { opts: encodeOptions(opts), rooms })
  }
  adapter.disconnectSockets = async (opts, close) => {
    Adapter.prototype.disconnectSockets.call(adapter, opts, close)
    if (opts.flags?.local !== true) publish(MessageType.DISCONNECT_SOCKETS, { opts: encodeOptions(opts), close })
  }
  // The base asks Redis how many instances there are even for a local-only fetch, which then fails during an outage.
  const fetchEverywhere = adapter.fetchSockets.bind(adapter)
  adapter.fetchSockets = async opts => opts.flags?.local === true ? await Adapter.prototype.fetchSockets.call(adapter, opts) : await fetchEverywhere(opts)
  // The base's serverSideEmit awaits that count too, and Socket.IO drops the promise it returns: a failed count
  // would be an unhandled rejection (the process ends). It goes to the caller's ack instead, as a timeout would.
  const emitEverywhere = adapter.serverSideEmit.bind(adapter)
  adapter.serverSideEmit = async packet => {
    const last: unknown = packet[packet.length - 1]
    try {
      await emitEverywhere(packet)
    } catch (error) {
      if (typeof last === 'function') (last as (error: unknown, responses: unknown[]) => void)(error, [])
    }
  }
}

/** The sharded adapter factory for `io.adapter(...)`, over the cluster's publisher and subscriber. */
export function createShardedClusterAdapter (cluster: Cluster, channelPrefix: string): (nsp: Namespace) => ClusterAdapter {
  const create = createShardedAdapter(cluster.pub, cluster.sub, { channelPrefix, subscriptionMode: 'dynamic' })
  return function adapter (nsp: Namespace) {
    const instance = create(nsp) as unknown as ClusterAdapter
    applyLocallyFirst(instance)
    return instance
  }
}
