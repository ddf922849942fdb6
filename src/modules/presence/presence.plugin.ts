/**
 * Wires presence into the gateway's connect/disconnect hooks, registers presence_query, and makes public user
 * documents show `online` (`app.users.isOnline`). Decorates `app.presence`.
 */
import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import { conversationIdsOf } from '../../realtime/gateway.plugin.js'
import { LocalPresenceStore, type PresenceStore } from './presence.store.js'
import { PresenceService } from './presence.service.js'
import { presenceEvents } from './presence.events.js'

declare module 'fastify' {
  interface FastifyInstance {
    presence: PresenceService
  }
}

export interface PresencePluginOptions {
  /** Where online state lives. Default: this instance's memory (LocalPresenceStore). */
  store?: PresenceStore
}

async function presencePlugin (app: FastifyInstance, options: PresencePluginOptions): Promise<void> {
  const presence = new PresenceService({
    store: options.store ?? new LocalPresenceStore(),
    User: app.models.User,
    notifier: app.realtime.notifier
  })
  app.decorate('presence', presence)
  app.users.isOnline = userId => presence.isOnline(userId)
  app.realtime.registerEvents(presenceEvents(presence))

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
  app.addHook('onClose', async () => { await Promise.all(pending) })
}

export default fp(presencePlugin, { name: 'presence', fastify: '5.x', dependencies: ['realtime', 'users', 'models'] })
