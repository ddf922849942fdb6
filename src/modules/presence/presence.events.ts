/** presence_query: the online state of up to 200 users at once. */
import { Type } from 'typebox'
import { socketEvent, type SocketEventModule } from '../../realtime/contracts.js'
import type { PresenceService } from './presence.service.js'

/** Most users one presence_query may ask about (the same cap as list pages). */
export const PRESENCE_QUERY_MAX = 200

export const PresenceQueryPayload = Type.Object({
  userIds: Type.Array(Type.String({ pattern: '^[0-9a-f]{24}$' }), { maxItems: PRESENCE_QUERY_MAX })
}, { additionalProperties: false })

export function presenceEvents (presence: PresenceService): SocketEventModule {
  return {
    presence_query: socketEvent({
      schema: PresenceQueryPayload,
      handle: async (_context, payload) => await presence.query(payload.userIds)
    })
  }
}
