/**
 * The admin facade the routes call: every method first checks, in the database, that the actor is an enabled admin
 * right now (a token minted before a demotion or a disable does not count), runs the read or change, and appends
 * its audit entry (the export's is written before its first byte and completed with its count).
 */
import { Types } from 'mongoose'
import type { UserModel } from '../../storage/models/user.model.js'
import { forbidden } from '../../shared/errors.js'
import type { AuditService, Actor } from './audit.service.js'
import type { AdminMessagesService } from './admin-messages.service.js'
import type { AdminDirectoryService } from './admin-directory.service.js'
import type {
  AdminConversationsQuery, AdminMessage, AdminUserPatch, AdminUsersQuery, AuditQuery, MessageExportQuery, MessageSearchQuery
} from './admin.schemas.js'

export type { Actor } from './audit.service.js'

export interface AdminServiceOptions {
  User: UserModel
  audit: AuditService
  messages: AdminMessagesService
  directory: AdminDirectoryService
}

/** An export: its stream of pages, and what to call when it ends (the audit entry's completion). */
export interface ExportRun {
  pages: AsyncGenerator<AdminMessage[]>
  finish: (count: number, completed: boolean) => Promise<void>
}

export class AdminService {
  constructor (private readonly options: AdminServiceOptions) {}

  /** The history service itself (no role check, no audit): for plans (`explain`) and tooling, never for routes. */
  get history (): AdminMessagesService {
    return this.options.messages
  }

  /** 403 ADMIN_ONLY unless the account is an admin, enabled and not deleted, as stored now. */
  async requireAdmin (actor: Actor): Promise<void> {
    const id = Types.ObjectId.isValid(actor.userId) ? new Types.ObjectId(actor.userId) : null
    const user = id !== null ? await this.options.User.findById(id, { role: 1, disabled: 1, deletedAt: 1 }).lean() : null
    if (user === null || user.role !== 'admin' || user.disabled || user.deletedAt != null) {
      throw forbidden('Admins only', 'ADMIN_ONLY')
    }
  }

  /**
   * A read run beside the role check, so it costs no extra round trip: its result is used only once the check
   * passed (a refused caller gets the 403 and nothing else; a read has no effect to undo).
   */
  private async readAsAdmin<T> (actor: Actor, read: () => Promise<T>): Promise<T> {
    const running = read()
    running.catch(() => {})
    await this.requireAdmin(actor)
    return await running
  }

  async searchMessages (actor: Actor, route: string, query: MessageSearchQuery) {
    const page = await this.readAsAdmin(actor, async () => await this.options.messages.search(query))
    await this.options.audit.record(actor, { action: 'messages.search', route, params: query, resultCount: page.items.length })
    return page
  }

  /** Checks the actor and writes the `started` entry; the caller streams the pages, then calls `finish`. */
  async exportMessages (actor: Actor, route: string, query: MessageExportQuery): Promise<ExportRun> {
    await this.requireAdmin(actor)
    const pages = await this.options.messages.export(query)
    const entry = await this.options.audit.record(actor, { action: 'messages.export', route, params: query, status: 'started' })
    return {
      pages,
      finish: async (count, completed) => { await this.options.audit.complete(entry, count, completed ? 'completed' : 'aborted') }
    }
  }

  async listConversations (actor: Actor, route: string, query: AdminConversationsQuery) {
    const page = await this.readAsAdmin(actor, async () => await this.options.directory.listConversations(actor.userId, query))
    await this.options.audit.record(actor, { action: 'conversations.list', route, params: query, resultCount: page.items.length })
    return page
  }

  async getConversation (actor: Actor, route: string, conversationId: string) {
    const conversation = await this.readAsAdmin(actor, async () => await this.options.directory.getConversation(actor.userId, conversationId))
    await this.options.audit.record(actor, { action: 'conversations.read', route, params: {}, targetId: conversationId, resultCount: 1 })
    return conversation
  }

  async listUsers (actor: Actor, route: string, query: AdminUsersQuery) {
    const page = await this.readAsAdmin(actor, async () => await this.options.directory.listUsers(query))
    await this.options.audit.record(actor, { action: 'users.list', route, params: query, resultCount: page.items.length })
    return page
  }

  async updateUser (actor: Actor, route: string, userId: string, patch: AdminUserPatch) {
    await this.requireAdmin(actor)
    const user = await this.options.directory.updateUser(actor.userId, userId, patch)
    await this.options.audit.record(actor, { action: 'users.update', route, params: patch, targetId: userId })
    return user
  }

  async listAudit (actor: Actor, route: string, query: AuditQuery) {
    // Reading the log is itself logged, after the read (so a page never shows its own entry).
    const page = await this.readAsAdmin(actor, async () => await this.options.audit.list(query))
    await this.options.audit.record(actor, { action: 'audit.read', route, params: query, resultCount: page.items.length })
    return page
  }

  async stats (actor: Actor, route: string) {
    const stats = await this.readAsAdmin(actor, async () => await this.options.directory.stats())
    await this.options.audit.record(actor, { action: 'stats.read', route, params: {} })
    return stats
  }
}
