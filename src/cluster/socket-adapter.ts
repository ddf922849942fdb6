/**
 * The Socket.IO adapter for a cluster: by default on Redis 7 sharded pub/sub (sharded-adapter.ts), where only the
 * instances with a member in a room hear its broadcasts; `REDIS_ADAPTER=classic` keeps the classic pub/sub adapter
 * below (any Redis version, every instance hears every broadcast).
 *
 * The classic one is @socket.io/redis-adapter's RedisAdapter with one fix.
 *
 * In version 8 the adapter's `socketsJoin`, `socketsLeave` and `disconnectSockets` only publish a request, and
 * each instance, this one included, applies it when the request comes back through Redis. That makes the local
 * part late (a message sent right after a new conversation was created could miss the creator's own sockets) and
 * lost during an outage, and a leave-then-join can be reordered by the echo. Here the local part is applied at once
 * (as the in-memory adapter does), the request is published for the other instances, and this instance ignores
 * its own echo.
 */
import { RedisAdapter } from '@socket.io/redis-adapter'
import type { Adapter } from 'socket.io-adapter'
import type { Cluster } from './cluster.types.js'
import { createShardedClusterAdapter } from './sharded-adapter.js'

export type AdapterMode = 'sharded' | 'classic'

export interface ClusterAdapterOptions {
  /** Sharded pub/sub (Redis 7+, the default) or classic pub/sub (REDIS_ADAPTER). */
  mode?: AdapterMode
  /** Prefix of the adapter's Redis channels. Default 'parley-socket.io'. */
  key?: string
  /** How long `fetchSockets` (and other requests answered by every instance) waits for answers. Default 2000 ms. */
  requestsTimeoutMs?: number
}

type BroadcastOptions = Parameters<RedisAdapter['addSockets']>[0]
type Namespace = ConstructorParameters<typeof RedisAdapter>[0]

/** The adapter's request types whose local part this subclass applies itself (values from the adapter's enum). */
const APPLIED_LOCALLY = new Set([2, 3, 4]) // REMOTE_JOIN, REMOTE_LEAVE, REMOTE_DISCONNECT
const BASE = Object.getPrototypeOf(RedisAdapter.prototype) as {
  addSockets: (this: RedisAdapter, opts: BroadcastOptions, rooms: string[]) => void
  delSockets: (this: RedisAdapter, opts: BroadcastOptions, rooms: string[]) => void
  disconnectSockets: (this: RedisAdapter, opts: BroadcastOptions, close: boolean) => void
}

class ParleyRedisAdapter extends RedisAdapter {
  override addSockets (opts: BroadcastOptions, rooms: string[]): void {
    super.addSockets(opts, rooms)
    if (opts.flags?.local !== true) BASE.addSockets.call(this, opts, rooms)
  }

  override delSockets (opts: BroadcastOptions, rooms: string[]): void {
    super.delSockets(opts, rooms)
    if (opts.flags?.local !== true) BASE.delSockets.call(this, opts, rooms)
  }

  override disconnectSockets (opts: BroadcastOptions, close: boolean): void {
    super.disconnectSockets(opts, close)
    if (opts.flags?.local !== true) BASE.disconnectSockets.call(this, opts, close)
  }
}

// `onrequest` is private in the adapter's typings, so it is replaced on the prototype rather than overridden in the
// class body. The constructor binds it from the prototype, so the replacement is what the subscriber calls.
const proto = RedisAdapter.prototype as unknown as { onrequest: (channel: Buffer | string, msg: Buffer) => Promise<void> }
const baseOnRequest = proto.onrequest
Object.defineProperty(ParleyRedisAdapter.prototype, 'onrequest', {
  configurable: true,
  writable: true,
  value: async function onrequest (this: RedisAdapter, channel: Buffer | string, msg: Buffer): Promise<void> {
    // Requests from `addSockets` & co. are JSON (others may be msgpack); only those can be our own echo.
    if (msg[0] === 0x7b) {
      try {
        const request = JSON.parse(msg.toString()) as { uid?: unknown, type?: unknown, opts?: unknown }
        if (request.uid === this.uid && request.opts !== undefined && APPLIED_LOCALLY.has(request.type as number)) return
      } catch {
        // Malformed: the adapter's own handler ignores it too.
      }
    }
    await baseOnRequest.call(this, channel, msg)
  }
})

export const DEFAULT_REQUESTS_TIMEOUT_MS = 2000

/** The adapter factory for `io.adapter(...)`, over the cluster's publisher and subscriber. */
export function createClusterAdapter (cluster: Cluster, options: ClusterAdapterOptions = {}): (nsp: Namespace) => Adapter {
  const key = options.key ?? 'parley-socket.io'
  if ((options.mode ?? 'sharded') === 'sharded') return createShardedClusterAdapter(cluster, key)
  const opts = { key, requestsTimeout: options.requestsTimeoutMs ?? DEFAULT_REQUESTS_TIMEOUT_MS }
  // Socket.IO calls the factory with `new`: a function (not an arrow) returning the instance works both ways.
  return function adapter (nsp: Namespace) { return new ParleyRedisAdapter(nsp, cluster.pub, cluster.sub, opts) }
}
