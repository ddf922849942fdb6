/**
 * The admin audit log: every admin read, export and change is appended here (who, when, from which IP, what, how many
 * results). Nothing in the API changes or deletes an entry; the only update is an export completing its own entry.
 */
import { Types } from 'mongoose'
import type { AuditEntryDoc, AuditEntryModel, AuditAction, AuditStatus } from '../../storage/models/audit-entry.model.js'
import { afterTimeId, decodeTimeId, encodeTimeId } from '../common/time-id-keyset.js'
import type { AuditEntry, AuditQuery } from './admin.schemas.js'
import { dateOf } from './admin-dates.js'

/** Who acts: the admin's id, their role as the token says (the services re-read it) and the client's address. */
export interface Actor {
  userId: string
  role: string
  ip: string
}

export interface AuditRecord {
  action: AuditAction
  /** Method and route pattern. */
  route: string
  params: object
  targetId?: string
  resultCount?: number | null
  status?: AuditStatus
}

const DEFAULT_LIMIT = 50

function toAuditEntry (doc: AuditEntryDoc): AuditEntry {
  return {
    id: String(doc._id),
    actorId: String(doc.actorId),
    action: doc.action,
    at: doc.at.toISOString(),
    ip: doc.ip,
    route: doc.route,
    params: doc.params,
    targetId: doc.targetId ?? null,
    resultCount: doc.resultCount ?? null,
    status: doc.status,
    completedAt: doc.completedAt?.toISOString() ?? null
  }
}

export class AuditService {
  constructor (private readonly AuditEntry: AuditEntryModel) {}

  /** Appends an entry; resolves with its id (an export completes it later). */
  async record (actor: Actor, entry: AuditRecord): Promise<Types.ObjectId> {
    const doc = await this.AuditEntry.create({
      actorId: new Types.ObjectId(actor.userId),
      action: entry.action,
      at: new Date(),
      ip: actor.ip,
      route: entry.route,
      // Copied as plain data: validated query values (strings, numbers, booleans), never operators.
      params: JSON.parse(JSON.stringify(entry.params)) as Record<string, unknown>,
      targetId: entry.targetId,
      resultCount: entry.resultCount ?? null,
      status: entry.status ?? 'done'
    })
    return doc._id
  }

  /** Completes a started entry (an export) with its count; an entry already completed is left as it is. */
  async complete (id: Types.ObjectId, resultCount: number, status: 'completed' | 'aborted'): Promise<void> {
    await this.AuditEntry.updateOne({ _id: id, status: 'started' }, { $set: { status, resultCount, completedAt: new Date() } })
  }

  /** Entries newest first, by (at, _id), filtered by actor, action and time range. */
  async list (query: AuditQuery): Promise<{ items: AuditEntry[], nextCursor: string | null }> {
    const limit = query.limit ?? DEFAULT_LIMIT
    const conditions: object[] = []
    if (query.actorId !== undefined) conditions.push({ actorId: new Types.ObjectId(query.actorId) })
    if (query.action !== undefined) conditions.push({ action: query.action })
    if (query.from !== undefined) conditions.push({ at: { $gte: dateOf(query.from, 'from') } })
    if (query.to !== undefined) conditions.push({ at: { $lt: dateOf(query.to, 'to') } })
    if (query.cursor !== undefined) conditions.push(...afterTimeId('at', decodeTimeId(query.cursor), 'desc'))
    const docs = await this.AuditEntry.find(conditions.length > 0 ? { $and: conditions } : {})
      .sort({ at: -1, _id: -1 }).limit(limit + 1).lean()
    const page = docs.slice(0, limit)
    const last = page[page.length - 1]
    return {
      items: page.map(toAuditEntry),
      nextCursor: docs.length > limit ? encodeTimeId(last.at, last._id) : null
    }
  }
}
