/**
 * The auth guard's account check: a token must not outlive its account (deleted, removed or disabled). Reading the
 * account on every request costs a database round trip (about 200 µs on the embedded engine, 5x fewer requests/s
 * on a guard-only route: docs/benchmarks.md), so answers are reused for a short while:
 *  - a revocation of any of the user's sessions (deletion, password change, an admin's disable; learned locally,
 *    from the cluster relay or from polling) drops the user's answer at once;
 *  - anything else (an operator disabling or removing the account straight in the database) is seen within
 *    `cacheMs`, the same bound the revocation list's polling gives across instances.
 * Concurrent requests of one user share one read.
 */
import { unauthorized } from '../../shared/errors.js'
import type { UserModel } from '../../storage/models/user.model.js'
import type { RevocationService } from './revocation.service.js'

export interface AccountGateOptions {
  User: UserModel
  revocation: RevocationService
  /** How long an answer is reused. Default 2000 ms; 0 reads the account on every request. */
  cacheMs?: number
  /** Answers kept at most (the oldest go first). Default 10 000. */
  maxEntries?: number
}

interface Entry { usable: Promise<boolean>, at: number }

export class AccountGate {
  private readonly User: UserModel
  private readonly cacheMs: number
  private readonly maxEntries: number
  private readonly entries = new Map<string, Entry>()
  private readonly unsubscribe: () => void

  constructor (options: AccountGateOptions) {
    this.User = options.User
    this.cacheMs = options.cacheMs ?? 2000
    this.maxEntries = options.maxEntries ?? 10_000
    this.unsubscribe = options.revocation.onRevoked(revocation => { this.entries.delete(revocation.userId) })
  }

  /** 401 ACCOUNT_UNAVAILABLE unless the account exists, is not deleted and is not disabled. */
  async assertUsable (userId: string): Promise<void> {
    if (!await this.usable(userId)) throw unauthorized('The account is disabled or deleted', 'ACCOUNT_UNAVAILABLE')
  }

  stop (): void {
    this.unsubscribe()
    this.entries.clear()
  }

  private async usable (userId: string): Promise<boolean> {
    const now = Date.now()
    const cached = this.entries.get(userId)
    if (cached !== undefined && now - cached.at < this.cacheMs) return await cached.usable
    const usable = this.read(userId)
    if (this.cacheMs > 0) {
      this.entries.delete(userId)
      this.entries.set(userId, { usable, at: now })
      if (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value as string)
      // A failed read is not an answer: the next request reads again.
      usable.catch(() => { if (this.entries.get(userId)?.usable === usable) this.entries.delete(userId) })
    }
    return await usable
  }

  private async read (userId: string): Promise<boolean> {
    const user = await this.User.findById(userId, { _id: 0, disabled: 1, deletedAt: 1 }).lean()
    return user !== null && !user.disabled && user.deletedAt == null
  }
}
