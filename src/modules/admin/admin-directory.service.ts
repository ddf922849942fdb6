/**
 * Who and what exists, for admins: users (listed, promoted, demoted, disabled, enabled), conversations with all their
 * members, and the platform's counts. Disabling revokes every session of the user, which disconnects their sockets
 * on every instance (the revocation list and its relay) and stops their tokens at once; so does demoting an admin.
 */
import { Types } from 'mongoose'
import type { ConversationDoc, ConversationModel } from '../../storage/models/conversation.model.js'
import type { MessageModel } from '../../storage/models/message.model.js'
import type { UserDoc, UserModel } from '../../storage/models/user.model.js'
import type { ConversationsService } from '../conversations/conversations.service.js'
import type { RevocationService } from '../auth/revocation.service.js'
import type { Conversation } from '../conversations/conversations.schemas.js'
import { toOwnUser, type OnlineLookup } from '../users/users.view.js'
import { conflict, notFound } from '../../shared/errors.js'
import { objectId } from '../../shared/ids.js'
import { escapeRegex, normalizeKey } from '../../shared/text.js'
import { cursorObjectId, decodeCursor, encodeCursor } from '../common/opaque-cursor.js'
import type { AdminConversationsQuery, AdminUser, AdminUserPatch, AdminUsersQuery, Stats } from './admin.schemas.js'

export interface AdminDirectoryOptions {
  User: UserModel
  Conversation: ConversationModel
  Message: MessageModel
  conversations: ConversationsService
  revocation: RevocationService
  isOnline: () => OnlineLookup
  /** Users online across the cluster (the presence store). */
  onlineCount: () => Promise<number>
  /** Connected sockets per instance that answered. */
  instanceSockets: () => Promise<Array<{ instanceId: string, sockets: number }>>
}

const DEFAULT_LIMIT = 50
const DAY_MS = 24 * 3600_000

const userNotFound = () => notFound('No such user', 'USER_NOT_FOUND')

/** Pages by _id (creation order); `after` is the cursor's id. */
function afterId (cursor: string | undefined): Types.ObjectId | null {
  return cursor !== undefined ? decodeCursor(cursor, position => cursorObjectId(position.id)) : null
}

function pageOf<T extends { _id: Types.ObjectId }> (docs: T[], limit: number): { page: T[], nextCursor: string | null } {
  const page = docs.slice(0, limit)
  return { page, nextCursor: docs.length > limit ? encodeCursor({ id: String(page[page.length - 1]._id) }) : null }
}

export class AdminDirectoryService {
  constructor (private readonly options: AdminDirectoryOptions) {}

  toAdminUser (user: UserDoc): AdminUser {
    return { ...toOwnUser(user, this.options.isOnline()), disabled: user.disabled }
  }

  /** Every account, deleted ones included, by creation; `search` is a prefix of username, email or names. */
  async listUsers (query: AdminUsersQuery): Promise<{ items: AdminUser[], nextCursor: string | null }> {
    const limit = query.limit ?? DEFAULT_LIMIT
    const conditions: object[] = []
    const after = afterId(query.cursor)
    if (after !== null) conditions.push({ _id: { $gt: after } })
    if (query.role !== undefined) conditions.push({ role: query.role })
    if (query.disabled !== undefined) conditions.push({ disabled: query.disabled })
    const search = query.search !== undefined ? normalizeKey(query.search) : ''
    if (search !== '') {
      const prefix = new RegExp(`^${escapeRegex(search)}`)
      conditions.push({ $or: [{ usernameKey: prefix }, { emailKey: prefix }, { firstNameKey: prefix }, { lastNameKey: prefix }] })
    }
    const docs = await this.options.User.find(conditions.length > 0 ? { $and: conditions } : {}).sort({ _id: 1 }).limit(limit + 1).lean()
    const { page, nextCursor } = pageOf(docs, limit)
    return { items: page.map(user => this.toAdminUser(user)), nextCursor }
  }

  /**
   * Changes a user's role or disabled flag. An admin may not demote or disable themself while no other enabled admin
   * is left (409 LAST_ADMIN). Disabling revokes every session of the user (their sockets close on every instance).
   */
  async updateUser (actorId: string, userId: string, patch: AdminUserPatch): Promise<AdminUser> {
    const id = new Types.ObjectId(userId)
    const user = await this.options.User.findOne({ _id: id, deletedAt: null }).lean()
    if (user === null) throw userNotFound()
    const losesAdmin = user.role === 'admin' && (patch.role === 'user' || patch.disabled === true)
    if (losesAdmin && actorId === userId) {
      const others = await this.options.User.countDocuments({ _id: { $ne: id }, role: 'admin', disabled: false, deletedAt: null })
      if (others === 0) throw conflict('LAST_ADMIN', 'You are the last admin: promote another before demoting or disabling yourself')
    }
    const set: Partial<Pick<UserDoc, 'role' | 'disabled'>> = {}
    if (patch.role !== undefined) set.role = patch.role
    if (patch.disabled !== undefined) set.disabled = patch.disabled
    const updated = await this.options.User.findOneAndUpdate({ _id: id, deletedAt: null }, { $set: set }, { returnDocument: 'after', lean: true })
    if (updated === null) throw userNotFound()
    if (patch.disabled === true) await this.options.revocation.revokeUser(userId, 'disabled')
    // A demoted admin's tokens still say `admin` (message deletes and file reads trust them): they sign in again.
    else if (user.role === 'admin' && updated.role !== 'admin') await this.options.revocation.revokeUser(userId, 'admin')
    return this.toAdminUser(updated)
  }

  /** Conversations by creation, filtered by member, type and group-name prefix, each with all its members. */
  async listConversations (actorId: string, query: AdminConversationsQuery): Promise<{ items: Conversation[], nextCursor: string | null }> {
    const limit = query.limit ?? DEFAULT_LIMIT
    const conditions: object[] = []
    const after = afterId(query.cursor)
    if (after !== null) conditions.push({ _id: { $gt: after } })
    if (query.userId !== undefined) conditions.push({ memberIds: new Types.ObjectId(query.userId) })
    if (query.type !== undefined) conditions.push({ type: query.type })
    const search = query.search !== undefined ? normalizeKey(query.search) : ''
    if (search !== '') conditions.push({ nameKey: new RegExp(`^${escapeRegex(search)}`) })
    const docs = await this.options.Conversation.find(conditions.length > 0 ? { $and: conditions } : {})
      .sort({ _id: 1 }).limit(limit + 1).lean<ConversationDoc[]>()
    const { page, nextCursor } = pageOf(docs, limit)
    return { items: await this.options.conversations.viewMany(page, actorId), nextCursor }
  }

  async getConversation (actorId: string, conversationId: string): Promise<Conversation> {
    // Path ids are any short string (as on the members' routes): one that is no ObjectId names nothing.
    const id = objectId(conversationId)
    const doc = id !== null ? await this.options.Conversation.findById(id).lean<ConversationDoc>() : null
    if (doc === null) throw notFound('No such conversation', 'CONVERSATION_NOT_FOUND')
    return (await this.options.conversations.viewMany([doc], actorId))[0]
  }

  async stats (now = new Date()): Promise<Stats> {
    const { User, Conversation, Message } = this.options
    const live = { deletedAt: null }
    const [total, admins, disabled, direct, group, messages, last24h, onlineUsers, instances] = await Promise.all([
      User.countDocuments(live),
      User.countDocuments({ ...live, role: 'admin' }),
      User.countDocuments({ ...live, disabled: true }),
      Conversation.countDocuments({ type: 'direct' }),
      Conversation.countDocuments({ type: 'group' }),
      Message.estimatedDocumentCount(),
      Message.countDocuments({ createdAt: { $gte: new Date(now.getTime() - DAY_MS) } }),
      this.options.onlineCount(),
      this.options.instanceSockets()
    ])
    return { users: { total, admins, disabled }, conversations: { direct, group }, messages: { total: messages, last24h }, onlineUsers, instances }
  }
}
