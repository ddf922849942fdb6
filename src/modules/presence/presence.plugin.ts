/**
 * Wires presence into the gateway's connect/disconnect hooks, registers presence_query, and makes public user
 * documents show `online` (`app.users.isOnline`). Decorates `app.presence`. With a cluster (`app.cluster`, REDIS_URL
 * set) online state is shared through Redis (RedisPresenceStore); otherwise it is this instance's memory.
 */
import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import { conversationIdsOf } from '../../realtime/rooms.js'
import { LocalPresenceStore, type PresenceStore } from './presence.store.js'
import { RedisPresenceStore, type RedisPresenceTiming } from './redis-presence.store.js'
import { PresenceService } from './presence.service.js'
import { presenceEvents } from './presence.events.js'

declare module 'fastify' {
  interface FastifyInstance {
    presence: PresenceService
  }
}

export interface PresencePluginOptions {
  /** Where online state lives. Default: Redis when the app has a cluster, else this instance's memory. */
  store?: PresenceStore
  /** Heartbeat, TTL and reaper periods of the Redis store (defaults in RedisPresenceTiming). */
  redisTiming?: RedisPresenceTiming
}

async function presencePlugin (app: FastifyInstance, options: PresencePluginOptions): Promise<void> {
  const { cluster } = app
  const store: PresenceStore = options.store ??
    (cluster !== null ? new RedisPresenceStore({ cluster, log: app.log, ...options.redisTiming }) : new LocalPresenceStore())
  const presence = new PresenceService({
    store,
    User: app.models.User,
    notifier: app.realtime.notifier,
    conversationIdsOf: async userId => await app.conversations.conversationIdsOf(userId),
    contactsAmong: async (userId, candidateIds) => await app.conversations.contactsAmong(userId, candidateIds)
  })
  app.decorate('presence', presence)
  app.users.isOnline = userId => presence.isOnline(userId)
  app.realtime.registerEvents(presenceEvents(presence))
  await store.start?.()

  // Offline writes still running at shutdown finish before storage closes (onClose runs in reverse order).
  const pending = new Set<Promise<void>>()
  const track = (work: Promise<void>): void => {
    const tracked = work.catch(error => { app.log.warn({ err: error }, 'presence update failed') })
      .finally(() => { pending.delete(tracked) })
    pending.add(tracked)
  }
  app.realtime.onConnection(socket => {
    track(presence.connected({
      userId: socket.data.userId, socketId: socket.id, conversationIds: conversationIdsOf(socket.rooms), lastSeenAt: socket.data.lastSeenAt
    }))
  })
  app.realtime.onDisconnection((socket, rooms) => {
    track(presence.disconnected({
      userId: socket.data.userId, socketId: socket.id, conversationIds: conversationIdsOf(rooms), lastSeenAt: socket.data.lastSeenAt
    }))
  })
  app.addHook('onClose', async () => {
    await Promise.all(pending)
    // Graceful: this instance's remaining fields and heartbeat go, so its users are offline at once.
    await store.close?.()
  })
}

export default fp(presencePlugin, { name: 'presence', fastify: '5.x', dependencies: ['cluster', 'realtime', 'users', 'models', 'conversations'] })
