/**
 * Brute-force limits for password checks (rate-limiter-flexible): every attempt counts against the client's IP,
 * and every failure counts against the account named (known or not, so the limit reveals nothing). A success
 * clears the account's failures. In memory by default; with a cluster the auth plugin passes a Redis-backed
 * factory (cluster/rate-limiters.ts), so the counts are shared by every instance.
 */
import { RateLimiterMemory, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible'
import { rateLimited } from '../../shared/errors.js'

export type LimiterFactory = (options: { keyPrefix: string, points: number, duration: number }) => RateLimiterAbstract

export interface LoginLimiterOptions {
  /** Attempts per IP per `ipWindowSeconds`; 0 disables. */
  perIp: number
  /** Failures per account per `accountWindowSeconds`; 0 disables. */
  perAccount: number
  /** Default 60. */
  ipWindowSeconds?: number
  /** Default 900 (15 minutes). */
  accountWindowSeconds?: number
  /** Default: in-memory limiters. */
  createLimiter?: LimiterFactory
}


const memoryLimiter: LimiterFactory = options => new RateLimiterMemory(options)

export class LoginLimiter {
  private readonly byIp: RateLimiterAbstract | null
  private readonly byAccount: RateLimiterAbstract | null

  constructor (options: LoginLimiterOptions) {
    const create = options.createLimiter ?? memoryLimiter
    this.byIp = options.perIp > 0
      ? create({ keyPrefix: 'login-ip', points: options.perIp, duration: options.ipWindowSeconds ?? 60 })
      : null
    this.byAccount = options.perAccount > 0
      ? create({ keyPrefix: 'login-account', points: options.perAccount, duration: options.accountWindowSeconds ?? 900 })
      : null
  }

  /** Counts one attempt from `ip` and throws 429 when the IP or the account is over its limit. */
  async attempt (ip: string, accountKey: string): Promise<void> {
    await this.assertAccountAllowed(accountKey)
    if (this.byIp === null) return
    try {
      await this.byIp.consume(ip)
    } catch (error) {
      if (error instanceof RateLimiterRes) throw rateLimited(error.msBeforeNext)
      throw error
    }
  }

  /** Throws 429 when the account has used up its failures (for password checks of a signed-in user too). */
  async assertAccountAllowed (accountKey: string): Promise<void> {
    if (this.byAccount === null) return
    const state = await this.byAccount.get(accountKey)
    if (state !== null && state.consumedPoints >= this.byAccount.points) throw rateLimited(state.msBeforeNext)
  }

  async recordFailure (accountKey: string): Promise<void> {
    if (this.byAccount === null) return
    // Over the limit the consume rejects; the count is what matters, not the rejection.
    await this.byAccount.consume(accountKey).catch(error => {
      if (!(error instanceof RateLimiterRes)) throw error
    })
  }

  async recordSuccess (accountKey: string): Promise<void> {
    await this.byAccount?.delete(accountKey)
  }
}
