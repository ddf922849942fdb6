/** presence_query: the online state of up to PRESENCE_QUERY_MAX users at once. */
import type { SocketHandlers } from '../../realtime/contracts.js'
import type { PresenceService } from './presence.service.js'

export function presenceEvents (presence: PresenceService): SocketHandlers {
  return {
    presence_query: async (context, payload) => await presence.query(context.userId, payload.userIds)
  }
}
