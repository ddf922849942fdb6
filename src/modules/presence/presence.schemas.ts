import { Type } from 'typebox'
import { IsoDate, Nullable, ObjectIdString } from '../../shared/schemas.js'

/** Most users one presence_query may ask about (the same cap as list pages). */
export const PRESENCE_QUERY_MAX = 200

export const PresenceQueryPayload = Type.Object({
  userIds: Type.Array(ObjectIdString, { maxItems: PRESENCE_QUERY_MAX })
}, { additionalProperties: false })

export const PresenceState = Type.Object({ online: Type.Boolean(), lastSeenAt: Nullable(IsoDate) })

/** By user id, for every id asked about (unknown users are offline with no lastSeenAt). */
export const PresenceQueryResult = Type.Record(Type.String(), PresenceState)
