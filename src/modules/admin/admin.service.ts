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
   * The role check, then the read: never the other way round or side by side, or anyone with a token could make the
   * database run an admin's most expensive query and only then be told 403.
   */
  private async readAsAdmin<T> (actor: Actor, read: () => Promise<T>): Promise<T> {
    await this.requireAdmin(actor)
    return await read()
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
      pages: this.whileAdmin(actor, pages),
      finish: async (count, completed) => { await this.options.audit.complete(entry, count, completed ? 'completed' : 'aborted') }
    }
  }

  /** The export's pages, each only while the actor is still an admin: a demotion or a disable stops it at the next page. */
  private async * whileAdmin (actor: Actor, pages: AsyncGenerator<AdminMessage[]>): AsyncGenerator<AdminMessage[]> {
    try {
      for (let first = true; ; first = false) {
        if (!first) await this.requireAdmin(actor)
        const next = await pages.next()
        if (next.done === true) return
        yield next.value
      }
    } finally {
      await pages.return(undefined)
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
