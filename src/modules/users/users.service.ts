/**
 * Accounts: creation, lookup, search, profile changes, password change and deletion. Used by the auth and users
 * routes, the admin scripts and (later) the admin module. Throws AppErrors only.
 */
import { Types } from 'mongoose'
import { AppError, badRequest, conflict, forbidden, notFound } from '../../shared/errors.js'
import type { UserDoc, UserModel, UserRole } from '../../storage/models/user.model.js'
import type { PasswordService } from '../auth/password.service.js'
import type { RevocationService } from '../auth/revocation.service.js'
import type { LoginLimiter } from '../auth/login-limiter.js'
import { toPublicUser, nobodyOnline, DELETED_USERNAME, type OnlineLookup } from './users.view.js'
import type { PublicUser, UpdateMeBody } from './users.schemas.js'
import { isReservedUsername } from './reserved-names.js'
import { cursorString, decodeCursor, encodeCursor } from '../common/opaque-cursor.js'
import { escapeRegex, normalizeKey } from '../../shared/text.js'

export interface UsersServiceOptions {
  User: UserModel
  passwords: PasswordService
  revocation: RevocationService
  limiter: LoginLimiter
  /** Presence lookup for `online`. Default: nobody is online. */
  isOnline?: OnlineLookup
}

export interface NewUser {
  username: string
  email: string
  password: string
  firstName?: string
  lastName?: string
  role?: UserRole
}

export interface SearchOptions { search?: string, limit?: number, cursor?: string }

/** Which of `userIds` share a conversation with `viewerId` (the viewer included): whose presence the viewer sees. */
export type ContactsLookup = (viewerId: string, userIds: string[]) => Promise<Set<string>>
const onlySelf: ContactsLookup = async (viewerId, userIds) => new Set(userIds.filter(id => id === viewerId))

export { normalizeKey }

/** The per-account rate-limit key of a known user (login failures and password checks share it). */
export const accountKey = (userId: string): string => `u:${userId}`

const DEFAULT_LIMIT = 50

/** USERNAME_TAKEN / EMAIL_TAKEN for MongoDB's duplicate-key error on our unique keys, null for anything else. */
function duplicateKeyConflict (error: unknown): AppError | null {
  const e = error as { code?: number, keyPattern?: Record<string, unknown>, message?: string }
  if (e?.code !== 11000) return null
  const field = Object.keys(e.keyPattern ?? {})[0] ?? (/emailKey/.test(e.message ?? '') ? 'emailKey' : 'usernameKey')
  return field === 'emailKey'
    ? conflict('EMAIL_TAKEN', 'That email is already registered')
    : conflict('USERNAME_TAKEN', 'That username is taken')
}

const reserved = (): AppError => conflict('USERNAME_RESERVED', 'That username is reserved')


export class UsersService {
  private readonly User: UserModel
  private readonly passwords: PasswordService
  private readonly revocation: RevocationService
  private readonly limiter: LoginLimiter
  /** Presence lookup for `online`; the presence module replaces it (`app.users.isOnline = ...`). */
  isOnline: OnlineLookup
  /** Whose presence a viewer may see; the conversations module replaces it (`app.users.contactsAmong = ...`). */
  contactsAmong: ContactsLookup = onlySelf

  constructor (options: UsersServiceOptions) {
    this.User = options.User
    this.passwords = options.passwords
    this.revocation = options.revocation
    this.limiter = options.limiter
    this.isOnline = options.isOnline ?? nobodyOnline
  }

  /** Creates an account; 409 USERNAME_TAKEN / EMAIL_TAKEN, decided by the unique indexes, or USERNAME_RESERVED. */
  async create (input: NewUser): Promise<UserDoc> {
    if (isReservedUsername(input.username, input.role ?? 'user')) throw reserved()
    const usernameKey = normalizeKey(input.username)
    const emailKey = normalizeKey(input.email)
    // A cheap early answer that spares an argon2 hash; the unique index below is what guarantees it.
    const taken = await this.User.findOne({ $or: [{ usernameKey }, { emailKey }] }, { usernameKey: 1 }).lean()
    if (taken !== null) {
      throw taken.usernameKey === usernameKey
        ? conflict('USERNAME_TAKEN', 'That username is taken')
        : conflict('EMAIL_TAKEN', 'That email is already registered')
    }
    const passwordHash = await this.passwords.hash(input.password)
    const firstName = input.firstName?.trim() ?? ''
    const lastName = input.lastName?.trim() ?? ''
    try {
      const user = await this.User.create({
        username: input.username,
        usernameKey,
        email: input.email.trim(),
        emailKey,
        passwordHash,
        firstName,
        lastName,
        firstNameKey: normalizeKey(firstName),
        lastNameKey: normalizeKey(lastName),
        role: input.role ?? 'user'
      })
      return user.toObject()
    } catch (error) {
      throw duplicateKeyConflict(error) ?? error
    }
  }

  /** The live account a login string names: an email when it has an `@`, else a username. */
  async findByLogin (login: string): Promise<UserDoc | null> {
    const key = normalizeKey(login)
    if (key === '') return null
    return await this.User.findOne(key.includes('@') ? { emailKey: key } : { usernameKey: key }).lean()
  }

  /** Any account by id, deleted ones included (they still attribute messages); 404 when there is none. */
  async getById (id: string): Promise<UserDoc> {
    const user = Types.ObjectId.isValid(id) ? await this.User.findById(id).lean() : null
    if (user === null) throw notFound('No such user', 'USER_NOT_FOUND')
    return user
  }

  /** A live (not deleted) account; 404 otherwise. */
  async getActive (id: string): Promise<UserDoc> {
    const user = await this.getById(id)
    if (user.deletedAt != null) throw notFound('No such user', 'USER_NOT_FOUND')
    return user
  }

  /** A public profile as `viewerId` sees it: presence only for contacts. */
  async getPublic (id: string, viewerId: string): Promise<PublicUser> {
    const user = await this.getById(id)
    const contacts = await this.contactsAmong(viewerId, [String(user._id)])
    return toPublicUser(user, this.isOnline, contacts.has(String(user._id)))
  }

  /** Live, enabled users whose username, first or last name starts with `search`, by username, cursor-paged. */
  async search (viewerId: string, options: SearchOptions): Promise<{ items: PublicUser[], nextCursor: string | null }> {
    const limit = Math.min(Math.max(options.limit ?? DEFAULT_LIMIT, 1), 200)
    // `$gt ''` also skips deleted accounts, which have no usernameKey.
    const after = options.cursor !== undefined ? decodeCursor(options.cursor, position => cursorString(position.u, 64)) : ''
    const filter: Record<string, unknown> = { usernameKey: { $gt: after }, disabled: false }
    const search = options.search !== undefined ? normalizeKey(options.search) : ''
    if (search !== '') {
      const prefix = new RegExp(`^${escapeRegex(search)}`)
      filter.$or = [{ usernameKey: prefix }, { firstNameKey: prefix }, { lastNameKey: prefix }]
    }
    const users = await this.User.find(filter).sort({ usernameKey: 1 }).limit(limit + 1).lean()
    const page = users.slice(0, limit)
    const contacts = await this.contactsAmong(viewerId, page.map(user => String(user._id)))
    return {
      items: page.map(user => toPublicUser(user, this.isOnline, contacts.has(String(user._id)))),
      nextCursor: users.length > limit ? encodeCursor({ u: page[page.length - 1].usernameKey as string }) : null
    }
  }

  /** Changes profile fields; 409 when the new username or email belongs to someone else, or is reserved. */
  async update (userId: string, patch: UpdateMeBody): Promise<UserDoc> {
    if (patch.username !== undefined && isReservedUsername(patch.username, 'admin')) throw reserved()
    if (patch.username !== undefined && isReservedUsername(patch.username, 'user') &&
      (await this.getActive(userId)).role !== 'admin') throw reserved()
    const set: Partial<UserDoc> = {}
    if (patch.username !== undefined) Object.assign(set, { username: patch.username, usernameKey: normalizeKey(patch.username) })
    if (patch.email !== undefined) Object.assign(set, { email: patch.email.trim(), emailKey: normalizeKey(patch.email) })
    if (patch.firstName !== undefined) Object.assign(set, { firstName: patch.firstName.trim(), firstNameKey: normalizeKey(patch.firstName) })
    if (patch.lastName !== undefined) Object.assign(set, { lastName: patch.lastName.trim(), lastNameKey: normalizeKey(patch.lastName) })
    try {
      const user = await this.User.findOneAndUpdate(
        { _id: userId, deletedAt: { $exists: false } }, { $set: set }, { returnDocument: 'after', lean: true }
      )
      if (user === null) throw notFound('No such user', 'USER_NOT_FOUND')
      return user
    } catch (error) {
      throw duplicateKeyConflict(error) ?? error
    }
  }

  /**
   * Checks a signed-in user's password (for sensitive changes) from `ip`, counted against the account's login
   * limits before it is verified: a stolen access token does not give unlimited (or parallel) guesses.
   * 403 WRONG_PASSWORD, 429 when over the limit.
   */
  async confirmPassword (user: UserDoc, password: string, ip: string): Promise<void> {
    const check = await this.limiter.passwordCheck(ip, accountKey(String(user._id)))
    const ok = user.passwordHash !== undefined && await this.passwords.verify(user.passwordHash, password)
    if (!ok) throw forbidden('The password is wrong', 'WRONG_PASSWORD')
    await check.succeeded()
  }

  /** Sets a new password and revokes every other session of the user (the caller's own stays). */
  async changePassword (userId: string, sid: string, currentPassword: string, newPassword: string, ip: string): Promise<void> {
    const user = await this.getActive(userId)
    await this.confirmPassword(user, currentPassword, ip)
    const passwordHash = await this.passwords.hash(newPassword)
    await this.User.updateOne({ _id: userId }, { $set: { passwordHash } })
    await this.revocation.revokeUser(userId, 'password-change', sid)
  }

  /**
   * Stores a rehash made with today's argon2 parameters (after a successful login), only over `replacing` (the
   * hash that was verified): false when the password changed meanwhile.
   */
  async setPasswordHash (userId: string, passwordHash: string, replacing: string): Promise<boolean> {
    const result = await this.User.updateOne({ _id: userId, passwordHash: replacing, deletedAt: { $exists: false } }, { $set: { passwordHash } })
    return result.modifiedCount === 1
  }

  /**
   * Deactivates the account: PII and password are erased, the username and email keys are freed for new
   * registrations, every session is revoked. The document stays so messages keep a sender, shown as deleted.
   */
  async deleteAccount (userId: string, password: string, ip: string): Promise<void> {
    const user = await this.getActive(userId)
    await this.confirmPassword(user, password, ip)
    await this.User.updateOne({ _id: userId }, {
      $set: { deletedAt: new Date(), username: DELETED_USERNAME, firstName: '', lastName: '', firstNameKey: '', lastNameKey: '' },
      $unset: { usernameKey: 1, emailKey: 1, email: 1, passwordHash: 1 }
    })
    await this.revocation.revokeUser(userId, 'account-deleted')
  }

  /**
   * The first admin. Missing: created as admin. Present: promoted when `promote` (the operator's explicit
   * `npm run create-admin`), else left as it is (at start an env var must not promote whoever registered that
   * name first). A username and an email belonging to two different accounts is a 409.
   */
  async ensureAdmin (input: { username: string, email: string, password: string }, options: { promote: boolean }): Promise<{ user: UserDoc, action: 'created' | 'promoted' | 'unchanged' }> {
    const byName = await this.User.findOne({ usernameKey: normalizeKey(input.username) }).lean()
    const byEmail = await this.User.findOne({ emailKey: normalizeKey(input.email) }).lean()
    if (byName !== null && byEmail !== null && !byName._id.equals(byEmail._id)) {
      throw conflict('ADMIN_CONFLICT', 'That username and that email belong to two different accounts')
    }
    const existing = byName ?? byEmail
    if (existing === null) return { user: await this.create({ ...input, role: 'admin' }), action: 'created' }
    if (existing.role === 'admin' || !options.promote) return { user: existing, action: 'unchanged' }
    const user = await this.User.findOneAndUpdate({ _id: existing._id }, { $set: { role: 'admin' } }, { returnDocument: 'after', lean: true })
    // Tokens carry the role: the promoted user signs in again to use it.
    await this.revocation.revokeUser(String(existing._id), 'admin')
    return { user: user as UserDoc, action: 'promoted' }
  }
}
