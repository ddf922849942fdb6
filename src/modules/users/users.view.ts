/** How a stored user is shown: publicly (no email, no role) or to themself and admins. */
import type { UserDoc } from '../../storage/models/user.model.js'
import type { OwnUser, PublicUser } from './users.schemas.js'

/** Tells whether a user is connected; the presence module supplies the real one. */
export type OnlineLookup = (userId: string) => boolean

export const nobodyOnline: OnlineLookup = () => false

/** The username a deleted account shows (its real one was freed for others). */
export const DELETED_USERNAME = 'deleted-user'

export function toPublicUser (user: UserDoc, isOnline: OnlineLookup = nobodyOnline): PublicUser {
  const id = String(user._id)
  const deleted = user.deletedAt !== undefined && user.deletedAt !== null
  return {
    id,
    username: deleted ? DELETED_USERNAME : user.username,
    firstName: deleted ? '' : user.firstName ?? '',
    lastName: deleted ? '' : user.lastName ?? '',
    online: deleted ? false : isOnline(id),
    lastSeenAt: user.lastSeenAt instanceof Date ? user.lastSeenAt.toISOString() : null,
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
