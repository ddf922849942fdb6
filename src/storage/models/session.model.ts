import { Schema, type Connection, type Model, type Types } from 'mongoose'

export const REVOKE_REASONS = ['logout', 'refresh-reuse', 'password-change', 'account-deleted', 'disabled', 'admin'] as const
export type RevokeReason = typeof REVOKE_REASONS[number]

/**
 * One login: the refresh token chain and its state. Access tokens carry the session id (`sid`) so revoking the
 * session kills them too (see revocation.service.ts).
 */
export interface SessionDoc {
  _id: Types.ObjectId
  userId: Types.ObjectId
  /** sha256 (base64url) of the current refresh token; the token itself is never stored. */
  refreshHash: string
  /** Hashes of the refresh tokens already rotated away: presenting one again is theft, and revokes the session. */
  usedRefreshHashes: string[]
  /** The current refresh token's expiry (slides on each refresh). */
  expiresAt: Date
  /** When MongoDB may delete the document (TTL index): after the last access token it could have issued expired. */
  purgeAt: Date
  /** Absent while the session is active; the revocation list is loaded from this field's index. */
  revokedAt?: Date
  revokedReason?: RevokeReason
  userAgent?: string
  ip?: string
  lastUsedAt: Date
  createdAt: Date
}

export type SessionModel = Model<SessionDoc>

const sessionSchema = new Schema<SessionDoc>({
  userId: { type: Schema.Types.ObjectId, required: true, ref: 'User' },
  refreshHash: { type: String, required: true },
  usedRefreshHashes: { type: [String], default: [] },
  expiresAt: { type: Date, required: true },
  purgeAt: { type: Date, required: true },
  revokedAt: { type: Date },
  revokedReason: { type: String, enum: REVOKE_REASONS },
  userAgent: { type: String },
  ip: { type: String },
  lastUsedAt: { type: Date, required: true }
}, { timestamps: { createdAt: true, updatedAt: false }, versionKey: false })

sessionSchema.index({ userId: 1 })
// Sparse: only revoked sessions are in it, so loading "revoked since T" walks just those.
sessionSchema.index({ revokedAt: 1 }, { sparse: true })
sessionSchema.index({ purgeAt: 1 }, { expireAfterSeconds: 0 })

/** The Session model on the given connection (registered once per connection). */
export function sessionModel (connection: Connection): SessionModel {
  return (connection.models.Session as SessionModel | undefined) ?? connection.model<SessionDoc>('Session', sessionSchema, 'sessions')
}
