/**
 * What the rest of Parley sees of the cluster (REDIS_URL set): `app.cluster`, or null for a single instance.
 * The cluster plugin (cluster.plugin.ts) owns the Redis connections; features use these handles and never open
 * their own, so one place logs outages and reconnects.
 */
import type { Redis } from 'ioredis'

export type ClusterListener = () => void

export interface Cluster {
  /** This process's id in the cluster (random per start): presence heartbeats and logs name it. */
  instanceId: string
  /**
   * For commands (rate limits, presence). Created with `enableOfflineQueue: false`, so while Redis is down a
   * command fails at once instead of queueing: callers fall back or refuse, they never hang.
   */
  redis: Redis
  /** Publisher and subscriber for the Socket.IO adapter and Parley's own channels (subscriber mode only on `sub`). */
  pub: Redis
  sub: Redis
  /** Whether the command connection is up right now. */
  isUp: () => boolean
  /**
   * Called after Redis came back from an outage (not on the first connect). Cross-instance messages published
   * meanwhile were lost: listeners re-announce state (presence) and tell local clients to `sync`.
   */
  onReconnect: (listener: ClusterListener) => () => void
  /** Publishes a JSON payload on a Parley channel (`parley:<name>`); fails silently (logged) while Redis is down. */
  publish: (channel: string, payload: unknown) => void
  /** Receives payloads published on `parley:<name>` by any instance, this one included. */
  subscribe: (channel: string, listener: (payload: unknown) => void) => () => void
}
