/**
 * Group conversations: creation, settings, membership, roles, public discovery. Roles rank owner > admin > member:
 * owner and admins change settings and add or remove members, the owner changes roles and deletes the group, and
 * nobody acts on someone of the same or a higher role (except themself: leaving). Every membership change moves
 * the affected users' sockets on every instance, and waits until each instance confirmed it, before it answers
 * (realtime/room-membership.ts), then tells the members. History: members read the whole history, new ones included (docs/groups.md).
 * Messages, receipts, typing, sync and attachments are the direct conversations' code: they check `memberIds`.
 */
import { Types } from 'mongoose'
import type { RateLimiterAbstract } from 'rate-limiter-flexible'
import { RateLimiterMemory } from 'rate-limiter-flexible'
import { appError, badRequest, forbidden, notFound } from '../../shared/errors.js'
import { objectId } from '../../shared/ids.js'
import type { ConversationDoc, ConversationModel, MemberRole } from '../../storage/models/conversation.model.js'
import type { ConversationMemberModel } from '../../storage/models/conversation-member.model.js'
import type { MessageModel } from '../../storage/models/message.model.js'
import type { UserModel } from '../../storage/models/user.model.js'
import type { Notifier } from '../../realtime/contracts.js'
import type { LimiterFactory } from '../../cluster/rate-limiters.js'
import { conversationNotFound, type ConversationsService } from './conversations.service.js'
import { decodeCursor, encodeCursor, cursorObjectId, cursorString } from '../common/opaque-cursor.js'
import type { Conversation } from './conversations.schemas.js'
import { consumePoint } from '../../cluster/rate-limiters.js'
import { escapeRegex, normalizeKey } from '../../shared/text.js'

export interface GroupsServiceOptions {
  Conversation: ConversationModel
  ConversationMember: ConversationMemberModel
  Message: MessageModel
  User: UserModel
  conversations: ConversationsService
  notifier: Notifier
  /** Members a group may have (GROUP_MAX_MEMBERS). */
  maxMembers: number
  /** Groups one user may create per hour; 0 disables. Default 20. */
  createsPerHour?: number
  createLimiter?: LimiterFactory
}

export interface NewGroup { name: string, subject?: string, memberIds: string[], visibility?: 'private' | 'public' }
export interface GroupPatch { name?: string, subject?: string, visibility?: 'private' | 'public' }

const RANK: Record<MemberRole, number> = { owner: 3, admin: 2, member: 1 }
const DEFAULT_LIMIT = 50


export class GroupsService {
  private readonly options: GroupsServiceOptions
  private readonly creates: RateLimiterAbstract | null

  constructor (options: GroupsServiceOptions) {
    this.options = options
    const perHour = options.createsPerHour ?? 20
    const create = options.createLimiter ?? (spec => new RateLimiterMemory(spec))
    this.creates = perHour > 0 ? create({ keyPrefix: 'group-creates', points: perHour, duration: 3600 }) : null
  }

  async create (userId: string, input: NewGroup): Promise<ConversationDoc> {
    await this.consumeCreate(userId)
    const creator = new Types.ObjectId(userId)
    const others = await this.activeUsers(input.memberIds.filter(id => id !== userId))
    if (others.length + 1 > this.options.maxMembers) throw tooMany(this.options.maxMembers)
    const now = new Date()
    const doc = (await this.options.Conversation.create({
      type: 'group',
      name: input.name.trim(),
      nameKey: normalizeKey(input.name),
      subject: input.subject?.trim() ?? '',
      visibility: input.visibility ?? 'private',
      members: [{ userId: creator, role: 'owner' as const, joinedAt: now }, ...others.map(id => ({ userId: id, role: 'member' as const, joinedAt: now }))],
      memberIds: [creator, ...others],
      createdBy: creator,
      lastSeq: 0,
      lastActivityAt: now
    })).toObject() as ConversationDoc
    const memberIds = doc.memberIds.map(String)
    await this.options.notifier.joinConversation(memberIds, String(doc._id))
    await this.options.conversations.announce(doc, memberIds)
    return doc
  }

  /** Name, subject, visibility: owner and admins. */
  async update (userId: string, groupId: string, patch: GroupPatch): Promise<ConversationDoc> {
    const doc = await this.requireRole(userId, groupId, 'admin')
    const set: Record<string, unknown> = {}
    if (patch.name !== undefined) Object.assign(set, { name: patch.name.trim(), nameKey: normalizeKey(patch.name) })
    if (patch.subject !== undefined) set.subject = patch.subject.trim()
    if (patch.visibility !== undefined) set.visibility = patch.visibility
    const updated = await this.options.Conversation.findOneAndUpdate({ _id: doc._id, type: 'group' }, { $set: set }, { returnDocument: 'after', lean: true })
    if (updated === null) throw conversationNotFound()
    await this.options.conversations.announce(updated, updated.memberIds.map(String))
    return updated
  }

  /** Owner and admins add members (at most GROUP_MAX_MEMBERS in all); those already in are left as they are. */
  async addMembers (userId: string, groupId: string, userIds: string[]): Promise<ConversationDoc> {
    const doc = await this.requireRole(userId, groupId, 'admin')
    return await this.admit(doc, userIds)
  }

  /** Anyone joins a public group; a private one is 403. Joining again changes nothing. */
  async join (userId: string, groupId: string): Promise<ConversationDoc> {
    const doc = await this.group(groupId)
    if (doc.memberIds.some(id => String(id) === userId)) return doc
    if (doc.visibility !== 'public') throw forbidden('This group is private: a member must add you', 'FORBIDDEN')
    return await this.admit(doc, [userId])
  }

  /** The owner makes a member an admin or a member again; `owner` hands the group over (the owner becomes admin). */
  async setRole (userId: string, groupId: string, targetId: string, role: MemberRole): Promise<ConversationDoc> {
    const doc = await this.requireRole(userId, groupId, 'owner')
    const target = memberOf(doc, targetId)
    if (target === undefined) throw notFound('No such member', 'USER_NOT_FOUND')
    if (targetId === userId) throw badRequest('VALIDATION_ERROR', 'The owner hands the group over by making another member owner')
    const roles = new Map(doc.members.map(member => [String(member.userId), member.role]))
    roles.set(targetId, role)
    if (role === 'owner') roles.set(userId, 'admin')
    return await this.saveRoles(doc, roles)
  }

  /** Owner and admins remove members of a lower role; a member removing themself leaves. */
  async removeMember (userId: string, groupId: string, targetId: string): Promise<void> {
    if (targetId === userId) return await this.leave(userId, groupId)
    const doc = await this.requireRole(userId, groupId, 'admin')
    const actor = memberOf(doc, userId)
    const target = memberOf(doc, targetId)
    if (target === undefined) throw notFound('No such member', 'USER_NOT_FOUND')
    if (actor === undefined || RANK[actor.role] <= RANK[target.role]) throw forbidden('You cannot remove a member of the same or a higher role', 'FORBIDDEN')
    await this.drop(doc, targetId)
  }

  /**
   * The caller leaves. An owner leaving hands the group to the longest-standing admin, else the longest-standing
   * member; the last member leaving deletes the group.
   */
  async leave (userId: string, groupId: string): Promise<void> {
    const doc = await this.group(groupId)
    const me = memberOf(doc, userId)
    if (me === undefined) throw conversationNotFound()
    const rest = doc.members.filter(member => String(member.userId) !== userId)
    if (rest.length === 0) return await this.remove(doc)
    if (me.role === 'owner') {
      const heir = [...rest].sort((a, b) => RANK[b.role] - RANK[a.role] || new Date(a.joinedAt).getTime() - new Date(b.joinedAt).getTime())[0]
      const roles = new Map(doc.members.map(member => [String(member.userId), member.role]))
      roles.set(String(heir.userId), 'owner')
      roles.set(userId, 'member')
      await this.saveRoles(doc, roles)
    }
    await this.drop(doc, userId)
  }

  /** The owner deletes the group for everyone: messages and marks go too. */
  async deleteGroup (userId: string, groupId: string): Promise<void> {
    await this.remove(await this.requireRole(userId, groupId, 'owner'))
  }

  /** Public groups whose name starts with `search` (case-insensitive), by name, cursor-paged; members see who is in. */
  async listPublic (userId: string, options: { search?: string, limit?: number, cursor?: string }): Promise<{ items: Conversation[], nextCursor: string | null }> {
    const limit = Math.min(Math.max(options.limit ?? DEFAULT_LIMIT, 1), 200)
    const conditions: Array<Record<string, unknown>> = [{ type: 'group', visibility: 'public' }]
    const prefix = normalizeKey(options.search ?? '')
    if (prefix !== '') conditions.push({ nameKey: { $regex: `^${escapeRegex(prefix)}` } })
    if (options.cursor !== undefined) {
      const after = decodeCursor(options.cursor, position => {
        const key = cursorString(position.k, 400)
        const id = cursorObjectId(position.i)
        return key !== null && id !== null ? { key, id } : null
      })
      conditions.push({ $or: [{ nameKey: { $gt: after.key } }, { nameKey: after.key, _id: { $gt: after.id } }] })
    }
    const docs = await this.options.Conversation.find({ $and: conditions }).sort({ nameKey: 1, _id: 1 }).limit(limit + 1).lean()
    const page = docs.slice(0, limit)
    const items = await this.options.conversations.viewMany(page, userId)
    const last = page[page.length - 1]
    return { items, nextCursor: docs.length > limit ? encodeCursor({ k: (last as ConversationDoc & { nameKey: string }).nameKey, i: String(last._id) }) : null }
  }

  /** Who has delivered and read up to `seq`, from the members' marks (members only). */
  async receipts (userId: string, groupId: string, seq: number): Promise<{ seq: number, delivered: string[], read: string[] }> {
    const doc = await this.options.conversations.requireMember(userId, groupId)
    const marks = await this.options.ConversationMember.find({ conversationId: doc._id, userId: { $in: doc.memberIds } }).lean()
    return {
      seq,
      delivered: marks.filter(mark => (mark.deliveredSeq ?? 0) >= seq).map(mark => String(mark.userId)),
      read: marks.filter(mark => (mark.readSeq ?? 0) >= seq).map(mark => String(mark.userId))
    }
  }

  private async consumeCreate (userId: string): Promise<void> {
    await consumePoint(this.creates, userId, 'groups created')
  }

  /** Live, enabled accounts among `ids` (unknown, deleted or disabled ones are a 404, naming nobody). */
  private async activeUsers (ids: string[]): Promise<Types.ObjectId[]> {
    const unique = [...new Set(ids)]
    const oids = unique.map(objectId)
    if (oids.some(id => id === null)) throw notFound('No such user', 'USER_NOT_FOUND')
    const found = await this.options.User.find({ _id: { $in: oids }, disabled: { $ne: true }, deletedAt: null }, { _id: 1 }).lean()
    if (found.length !== unique.length) throw notFound('No such user', 'USER_NOT_FOUND')
    return found.map(user => user._id)
  }

  private async group (groupId: string): Promise<ConversationDoc> {
    const id = objectId(groupId)
    const doc = id !== null ? await this.options.Conversation.findOne({ _id: id, type: 'group' }).lean() : null
    if (doc === null) throw conversationNotFound()
    return doc
  }

  /** The group if the caller is a member of at least `role`: 404 for non-members (as for a missing group), 403 otherwise. */
  private async requireRole (userId: string, groupId: string, role: MemberRole): Promise<ConversationDoc> {
    const doc = await this.options.conversations.requireMember(userId, groupId)
    if (doc.type !== 'group') throw badRequest('NOT_SUPPORTED', 'Only group conversations have members to manage')
    const me = memberOf(doc, userId)
    if (me === undefined || RANK[me.role] < RANK[role]) throw forbidden(`This needs the ${role} role in the group`, 'FORBIDDEN')
    return doc
  }

  /** Adds members atomically within the cap (the filter refuses a roster that would pass it), then tells everyone. */
  private async admit (doc: ConversationDoc, userIds: string[]): Promise<ConversationDoc> {
    const fresh = (await this.activeUsers(userIds)).filter(id => !doc.memberIds.some(member => member.equals(id)))
    if (fresh.length === 0) return doc
    const max = this.options.maxMembers
    if (doc.memberIds.length + fresh.length > max) throw tooMany(max)
    const now = new Date()
    const updated = await this.options.Conversation.findOneAndUpdate(
      { _id: doc._id, memberIds: { $nin: fresh }, [`memberIds.${max - fresh.length}`]: { $exists: false } },
      { $push: { members: { $each: fresh.map(id => ({ userId: id, role: 'member' as const, joinedAt: now })) }, memberIds: { $each: fresh } } },
      { returnDocument: 'after', lean: true }
    )
    if (updated === null) throw appError('BUSY', 'The group changed meanwhile (or is full): retry')
    const added = fresh.map(String)
    const conversationId = String(doc._id)
    await this.options.notifier.joinConversation(added, conversationId)
    for (const memberId of added) this.options.notifier.toConversation(conversationId, 'member_joined', { conversationId, userId: memberId })
    await this.options.conversations.announce(updated, updated.memberIds.map(String))
    return updated
  }

  /** Takes a member out: sockets leave the room first (on every instance), then the rest and the member are told. */
  private async drop (doc: ConversationDoc, targetId: string): Promise<void> {
    const target = new Types.ObjectId(targetId)
    const updated = await this.options.Conversation.findOneAndUpdate(
      { _id: doc._id, memberIds: target },
      { $pull: { members: { userId: target }, memberIds: target } },
      { returnDocument: 'after', lean: true }
    )
    if (updated === null) return
    const conversationId = String(doc._id)
    await this.options.notifier.leaveConversation([targetId], conversationId)
    this.options.notifier.toConversation(conversationId, 'member_left', { conversationId, userId: targetId })
    this.options.notifier.toUsers([targetId], 'member_left', { conversationId, userId: targetId })
    await this.options.conversations.announce(updated, updated.memberIds.map(String))
  }

  private async saveRoles (doc: ConversationDoc, roles: Map<string, MemberRole>): Promise<ConversationDoc> {
    const members = doc.members.map(member => ({ ...member, role: roles.get(String(member.userId)) ?? member.role }))
    const updated = await this.options.Conversation.findOneAndUpdate(
      { _id: doc._id, memberIds: { $all: doc.memberIds, $size: doc.memberIds.length } }, { $set: { members } }, { returnDocument: 'after', lean: true }
    )
    if (updated === null) throw appError('BUSY', 'The group changed meanwhile: retry')
    await this.options.conversations.announce(updated, updated.memberIds.map(String))
    return updated
  }

  private async remove (doc: ConversationDoc): Promise<void> {
    const conversationId = String(doc._id)
    const memberIds = doc.memberIds.map(String)
    await this.options.Conversation.deleteOne({ _id: doc._id })
    await this.options.notifier.leaveConversation(memberIds, conversationId)
    this.options.notifier.toUsers(memberIds, 'conversation_deleted', { conversationId })
    await Promise.all([
      this.options.Message.deleteMany({ conversationId: doc._id }),
      this.options.ConversationMember.deleteMany({ conversationId: doc._id })
    ])
  }
}

function memberOf (doc: ConversationDoc, userId: string): ConversationDoc['members'][number] | undefined {
  return doc.members.find(member => String(member.userId) === userId)
}

const tooMany = (max: number) => appError('GROUP_FULL', `A group has at most ${max} members`)
