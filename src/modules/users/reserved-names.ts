/**
 * Usernames nobody may register: the placeholder a deleted account shows, and names that would pass for the
 * system or its staff. Compared case-insensitively and ignoring the separators `_ . -`, so `Deleted_User` and
 * `ad.min` are caught too.
 */
import { DELETED_USERNAME } from './users.view.js'

/** Reserved for everyone: what the system itself shows. */
const SYSTEM_SHOWN = [DELETED_USERNAME, 'deleted', 'system', 'parley', 'anonymous', 'unknown', 'null', 'undefined']
/** Reserved for accounts that are not admins: an admin (create-admin, ADMIN_USERNAME) may take them. */
const STAFF = ['admin', 'administrator', 'root', 'superuser', 'moderator', 'mod', 'support', 'staff', 'security', 'official', 'help']

const squash = (name: string): string => name.normalize('NFKC').toLowerCase().replace(/[_.-]/g, '')
const systemShown = new Set(SYSTEM_SHOWN.map(squash))
const staff = new Set(STAFF.map(squash))

/** True when an account of this role may not use `username`. */
export function isReservedUsername (username: string, role: 'user' | 'admin'): boolean {
  const key = squash(username)
  return systemShown.has(key) || (role !== 'admin' && staff.has(key))
}
