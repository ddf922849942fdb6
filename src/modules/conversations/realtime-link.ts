/**
 * The domain's view of the socket gateway (`app.realtime`, decorated by src/realtime/gateway.plugin.ts). Read
 * through here so the domain also runs without a gateway (then nothing is pushed: REST still works).
 */
import type { FastifyInstance } from 'fastify'
import type { ConversationRoomsResolver, Notifier, SocketEventModule } from '../../realtime/contracts.js'

export interface RealtimeLink {
  notifier: Notifier
  registerEvents: (module: SocketEventModule) => void
  setConversationRooms: (resolver: ConversationRoomsResolver) => void
  /** Work the gateway lets finish before it closes the sockets at shutdown. */
  onDrain?: (task: () => Promise<void>) => void
}

/** Used when no gateway is registered: deliveries go nowhere. */
export const silentNotifier: Notifier = {
  toConversation () {},
  toUsers () {},
  async joinConversation () {},
  async leaveConversation () {}
}

export function realtimeOf (app: FastifyInstance): RealtimeLink | null {
  return app.hasDecorator('realtime') ? (app as unknown as { realtime: RealtimeLink }).realtime : null
}

/** A notifier getter: the gateway's when there is one. */
export function notifierOf (app: FastifyInstance): () => Notifier {
  return () => realtimeOf(app)?.notifier ?? silentNotifier
}
