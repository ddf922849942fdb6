/** Parley's own pub/sub channels over the shared connections: JSON payloads on `parley:<name>`. */
import type { FastifyBaseLogger } from 'fastify'
import type { Cluster } from './cluster.types.js'
import type { RedisConnections } from './redis-connections.js'

/** Prefix of Parley's own pub/sub channels (the Socket.IO adapter uses `parley-socket.io...`). */
export const CHANNEL_PREFIX = 'parley:'

export type Channels = Pick<Cluster, 'publish' | 'subscribe'> & { clear: () => void }

export function createChannels (connections: RedisConnections, log: FastifyBaseLogger): Channels {
  const { pub, sub } = connections
  const listenersOf = new Map<string, Set<(payload: unknown) => void>>()
  sub.on('messageBuffer', (channelBuffer: Buffer, message: Buffer) => {
    const channel = channelBuffer.toString()
    if (!channel.startsWith(CHANNEL_PREFIX)) return
    const listeners = listenersOf.get(channel.slice(CHANNEL_PREFIX.length))
    if (listeners === undefined) return
    let payload: unknown
    try {
      payload = JSON.parse(message.toString())
    } catch {
      log.warn({ channel, bytes: message.length }, 'cluster channel: payload is not JSON, ignored')
      return
    }
    for (const listener of [...listeners]) {
      try {
        listener(payload)
      } catch (error) {
        log.error({ err: error, channel }, 'cluster channel listener failed')
      }
    }
  })

  return {
    publish (channel, payload) {
      let message: string
      try {
        message = JSON.stringify(payload)
      } catch (error) {
        log.error({ err: error, channel }, 'cluster publish: payload is not serialisable')
        return
      }
      pub.publish(CHANNEL_PREFIX + channel, message).catch((error: Error) => {
        // While down the outage was logged once already; a failure while up is worth a warning.
        if (connections.isUp) log.warn({ err: error, channel }, 'cluster publish failed')
      })
    },
    subscribe (channel, listener) {
      let listeners = listenersOf.get(channel)
      if (listeners === undefined) {
        listenersOf.set(channel, listeners = new Set())
        sub.subscribe(CHANNEL_PREFIX + channel).catch((error: Error) => {
          log.error({ err: error, channel }, 'cluster subscribe failed')
        })
      }
      listeners.add(listener)
      return () => {
        const current = listenersOf.get(channel)
        if (current === undefined || !current.delete(listener) || current.size > 0) return
        listenersOf.delete(channel)
        if (!connections.isClosed) sub.unsubscribe(CHANNEL_PREFIX + channel).catch(() => {})
      }
    },
    clear () { listenersOf.clear() }
  }
}
