import { Schema, type Connection, type Model, type Types } from 'mongoose'

export const AUDIT_ACTIONS = [
  'messages.search', 'messages.export', 'conversations.list', 'conversations.read',
  'users.list', 'users.update', 'audit.read', 'stats.read'
] as const
export type AuditAction = typeof AUDIT_ACTIONS[number]

/** An export is `started` before its first byte and `completed` (or `aborted`) with its count; the rest are `done`. */
export const AUDIT_STATUSES = ['done', 'started', 'completed', 'aborted'] as const
export type AuditStatus = typeof AUDIT_STATUSES[number]

/**
 * One admin read, export or change: who, when, from where, what, how many results. Append-only: the API has no
 * route that changes or deletes one; the server itself only completes an export's entry.
 */
export interface AuditEntryDoc {
  _id: Types.ObjectId
  actorId: Types.ObjectId
  action: AuditAction
  at: Date
  ip: string
  /** Method and route pattern, e.g. `GET /api/admin/messages`. */
  route: string
  /** The validated query or body (filters, the change), as given. */
  params: Record<string, unknown>
  /** The user or conversation acted on, when there is one. */
  targetId?: string
  /** Items returned or exported (null for a change). */
  resultCount: number | null
  status: AuditStatus
  completedAt?: Date
}

export type AuditEntryModel = Model<AuditEntryDoc>

const auditEntrySchema = new Schema<AuditEntryDoc>({
  actorId: { type: Schema.Types.ObjectId, required: true, ref: 'User' },
  action: { type: String, enum: AUDIT_ACTIONS, required: true },
  at: { type: Date, required: true },
  ip: { type: String, default: '' },
  route: { type: String, required: true },
  params: { type: Schema.Types.Mixed, default: {} },
  targetId: { type: String },
  resultCount: { type: Number, default: null },
  status: { type: String, enum: AUDIT_STATUSES, required: true },
  completedAt: { type: Date }
}, { versionKey: false, minimize: false })

// GET /api/admin/audit pages newest first by (at, _id), filtered by actor or action.
auditEntrySchema.index({ at: -1, _id: -1 })
auditEntrySchema.index({ actorId: 1, at: -1, _id: -1 })
auditEntrySchema.index({ action: 1, at: -1, _id: -1 })

export function auditEntryModel (connection: Connection): AuditEntryModel {
  return (connection.models.AuditEntry as AuditEntryModel | undefined) ??
    connection.model<AuditEntryDoc>('AuditEntry', auditEntrySchema, 'audit_entries')
}
