/**
 * The revocation list: which sessions were revoked recently enough that one of their access tokens may still be
 * unexpired. An access token lives ACCESS_TOKEN_TTL at most, so a session revoked longer ago than that (plus a
 * clock-skew margin) can have no live token left and drops out of the list.
 *
 * Every instance keeps the list in memory, so the per-request check is a Map lookup with no database round trip.
 * Instances converge through MongoDB: the list is loaded at start from the sparse `revokedAt` index and a cheap
 * periodic poll reads the sessions revoked since the last one. A faster transport (Redis pub/sub) plugs in by
 * calling `apply()` for what it receives and subscribing to `onRevoked()` to publish local revocations.
 */
import type { Types } from 'mongoose'
import type { SessionModel, RevokeReason } from '../../storage/models/session.model.js'

/** What listeners (socket gateway, cluster bus) learn about a revoked session. */
export interface Revocation {
  sid: string
  userId: string
  reason: RevokeReason | 'unknown'
  revokedAt: Date
  /** True when this instance made the revocation; false when learned by polling or from `apply()`. */
  local: boolean
}

export type RevocationListener = (revocation: Revocation) => void

export interface RevocationOptions {
  Session: SessionModel
  /** Access token lifetime: how long a revoked session must stay in the list. */
  accessTokenTtlSeconds: number
  /** How often to poll MongoDB for revocations made by other instances. Default 2000 ms; 0 disables polling. */
  pollIntervalMs?: number
  /** Tolerated clock difference between instances, added to retention and to the poll's look-back. Default 60 000 ms. */
  clockSkewMs?: number
  /** Called when a poll fails (the next poll retries). Default: ignored. */
  onPollError?: (error: unknown) => void
}

interface RevokedDoc { _id: Types.ObjectId, userId: Types.ObjectId, revokedAt?: Date, revokedReason?: RevokeReason }

export class RevocationService {
  /** sid -> revokedAt (ms). Insertion order is roughly revocation order, which keeps pruning cheap. */
  private readonly revoked = new Map<string, number>()
  private readonly listeners = new Set<RevocationListener>()
  private readonly Session: SessionModel
  private readonly retentionMs: number
  private readonly pollIntervalMs: number
  private readonly clockSkewMs: number
  private readonly onPollError: (error: unknown) => void
  /** Latest `revokedAt` seen in the database: the next poll reads from here minus the skew margin. */
  private watermark = 0
  private timer: NodeJS.Timeout | null = null
  private polling: Promise<void> | null = null

  constructor (options: RevocationOptions) {
    this.Session = options.Session
    this.clockSkewMs = options.clockSkewMs ?? 60_000
    this.retentionMs = options.accessTokenTtlSeconds * 1000 + this.clockSkewMs
    this.pollIntervalMs = options.pollIntervalMs ?? 2000
    this.onPollError = options.onPollError ?? (() => {})
  }

  /** Loads the sessions revoked within the retention window, then starts polling. */
  async start (): Promise<void> {
    this.watermark = Date.now() - this.retentionMs
    await this.poll()
    if (this.pollIntervalMs > 0 && this.timer === null) {
      this.timer = setInterval(() => { this.poll().catch(this.onPollError) }, this.pollIntervalMs)
      this.timer.unref()
    }
  }

  stop (): void {
    if (this.timer !== null) clearInterval(this.timer)
    this.timer = null
  }

  /** The per-request check: true while an access token of this session must be refused. */
  isRevoked (sid: string): boolean {
    return this.revoked.has(sid)
  }

  /** Number of sessions currently in the list (metrics, tests). */
  get size (): number {
    return this.revoked.size
  }

  /**
   * Revokes one session in MongoDB and in this instance's list at once. Returns false when it was not active
   * (unknown, or already revoked).
   */
  async revoke (sid: string, reason: RevokeReason): Promise<boolean> {
    const revokedAt = new Date()
    const doc = await this.Session.findOneAndUpdate(
      { _id: sid, revokedAt: { $exists: false } },
      { $set: { revokedAt, revokedReason: reason } },
      { projection: { _id: 1, userId: 1 }, lean: true }
    )
    if (doc === null) return false
    this.add({ sid, userId: String(doc.userId), reason, revokedAt, local: true })
    return true
  }

  /** Revokes every active session of a user, optionally sparing one (the caller's own, on a password change). */
  async revokeUser (userId: string, reason: RevokeReason, exceptSid?: string): Promise<string[]> {
    const filter: Record<string, unknown> = { userId, revokedAt: { $exists: false } }
    if (exceptSid !== undefined) filter._id = { $ne: exceptSid }
    const active = await this.Session.find(filter, { _id: 1 }).lean()
    if (active.length === 0) return []
    const sids = active.map(s => String(s._id))
    const revokedAt = new Date()
    await this.Session.updateMany(
      { _id: { $in: sids }, revokedAt: { $exists: false } },
      { $set: { revokedAt, revokedReason: reason } }
    )
    for (const sid of sids) this.add({ sid, userId, reason, revokedAt, local: true })
    return sids
  }

  /** Takes a revocation learned elsewhere (another instance's push) into the list; listeners hear it once. */
  apply (revocation: Omit<Revocation, 'local'>): void {
    this.add({ ...revocation, local: false })
  }

  /** Subscribes to revocations, local and learned; returns the unsubscribe function. */
  onRevoked (listener: RevocationListener): () => void {
    this.listeners.add(listener)
    return () => { this.listeners.delete(listener) }
  }

  /**
   * Reads the sessions revoked since the last poll (minus the skew margin, so a revocation stamped by a slower
   * clock is not missed) and prunes entries older than the retention window. Concurrent calls share one read.
   */
  async poll (): Promise<void> {
    this.polling ??= this.readSince().finally(() => { this.polling = null })
    return await this.polling
  }

  private async readSince (): Promise<void> {
    const since = new Date(Math.max(this.watermark - this.clockSkewMs, Date.now() - this.retentionMs))
    const docs = await this.Session.find(
      { revokedAt: { $gt: since } },
      { _id: 1, userId: 1, revokedAt: 1, revokedReason: 1 }
    ).lean<RevokedDoc[]>()
    for (const doc of docs) {
      const revokedAt = doc.revokedAt as Date
      if (revokedAt.getTime() > this.watermark) this.watermark = revokedAt.getTime()
      this.add({ sid: String(doc._id), userId: String(doc.userId), reason: doc.revokedReason ?? 'unknown', revokedAt, local: false })
    }
    this.prune()
  }

  private add (revocation: Revocation): void {
    if (this.revoked.has(revocation.sid)) return
    const at = revocation.revokedAt.getTime()
    // Too old to matter: every access token of that session has expired already.
    if (at < Date.now() - this.retentionMs) return
    this.revoked.set(revocation.sid, at)
    for (const listener of this.listeners) {
      try {
        listener(revocation)
      } catch {
        // A failing listener must not stop the others or the revocation itself.
      }
    }
  }

  private prune (): void {
    const cutoff = Date.now() - this.retentionMs
    for (const [sid, at] of this.revoked) {
      if (at < cutoff) this.revoked.delete(sid)
    }
  }
}
