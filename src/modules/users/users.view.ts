/** How a stored user is shown: publicly (no email, no role) or to themself and admins. */
import type { UserDoc } from '../../storage/models/user.model.js'
import type { OwnUser, PublicUser } from './users.schemas.js'

/** Tells whether a user is connected; the presence module supplies the real one. */
export type OnlineLookup = (userId: string) => boolean

export const nobodyOnline: OnlineLookup = () => false

/** The username a deleted account shows (its real one was freed for others). */
export const DELETED_USERNAME = 'deleted-user'

/**
 * `showPresence`: whether the viewer may see this user's `online` and `lastSeenAt` (a contact, or the user
 * themself); for anyone else, as for a deleted account, they read offline and null.
 */
export function toPublicUser (user: UserDoc, isOnline: OnlineLookup = nobodyOnline, showPresence = true): PublicUser {
  const id = String(user._id)
  const deleted = user.deletedAt !== undefined && user.deletedAt !== null
  const presence = showPresence && !deleted
  return {
    id,
    username: deleted ? DELETED_USERNAME : user.username,
    firstName: deleted ? '' : user.firstName ?? '',
    lastName: deleted ? '' : user.lastName ?? '',
    online: presence ? isOnline(id) : false,
    lastSeenAt: presence && user.lastSeenAt instanceof Date ? user.lastSeenAt.toISOString() : null,
    deleted
  }
}

export function toOwnUser (user: UserDoc, isOnline: OnlineLookup = nobodyOnline): OwnUser {
  return {
    ...toPublicUser(user, isOnline),
    email: user.email ?? '',
    role: user.role,
    createdAt: user.createdAt.toISOString()
  }
}
