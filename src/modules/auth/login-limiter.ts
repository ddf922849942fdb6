/**
 * Limits on password work (rate-limiter-flexible), following OWASP's authentication cheat sheet:
 *  - every login attempt counts against the client's IP (`perIp` a minute);
 *  - every password check counts against the account named *and* the IP (`perAccountIp` per 15 minutes): tight,
 *    it stops a guesser from one place;
 *  - and against the account alone (`perAccount` per 15 minutes): loose, it slows a guess spread over many IPs.
 *    A place the account has signed in from before (`knownPlaceDays`, 21 days since its last success there) is
 *    exempt from this one: attackers elsewhere who spend the account's budget do not lock the owner out of their
 *    usual places. A new place is still subject to it.
 * "The IP" is the client key (client-key.ts): an IPv6 address counts by its /64, an IPv4 address as itself.
 * The attempt is counted *before* the password is verified (consume, then verify), so parallel guesses cannot all
 * pass a check made before any of them is recorded; a success gives its point back, clears the account+IP
 * count and remembers the place. Unknown accounts are counted by the login string the same way, so the limits
 * reveal nothing. Registrations count against the IP (`perRegisterIp` an hour): each costs an argon2 hash.
 * In memory by default; with a cluster the auth plugin passes a Redis-backed factory (cluster/rate-limiters.ts),
 * so the counts are shared by every instance.
 */
import { RateLimiterMemory, type RateLimiterAbstract } from 'rate-limiter-flexible'
import { clientKey } from './client-key.js'
import { consumePoint } from '../../cluster/rate-limiters.js'

export type LimiterFactory = (options: { keyPrefix: string, points: number, duration: number }) => RateLimiterAbstract

export interface LoginLimiterOptions {
  /** Login attempts per IP per `ipWindowSeconds`; 0 disables. */
  perIp: number
  /** Password checks per account and IP per `accountWindowSeconds` (successes give theirs back); 0 disables. */
  perAccountIp: number
  /** Password checks per account from all IPs per `accountWindowSeconds`; 0 disables. Default 0. */
  perAccount?: number
  /** Registrations per IP per `registerWindowSeconds`; 0 disables. Default 0. */
  perRegisterIp?: number
  /** Default 60. */
  ipWindowSeconds?: number
  /** Default 900 (15 minutes). */
  accountWindowSeconds?: number
  /** Default 3600 (an hour). */
  registerWindowSeconds?: number
  /**
   * How long a place (client key) an account signed in from stays exempt from `perAccount`, counted from its last
   * successful sign-in there. Default 21; at most 24 (the in-memory limiter expires keys with a timer, which
   * cannot wait longer than 2^31 ms, about 24.8 days); 0 disables the exemption.
   */
  knownPlaceDays?: number
  /** Default: in-memory limiters. */
  createLimiter?: LimiterFactory
}

/** A counted password check: tell it the password was right, and its point comes back. */
export interface PasswordCheck {
  succeeded: () => Promise<void>
  /** The password could not be verified after all (the hashing queue was full): the check's points come back. */
  notChecked: () => Promise<void>
}

/** Default of `knownPlaceDays`: three weeks since the last successful sign-in from a place. */
export const KNOWN_PLACE_DAYS = 21

const memoryLimiter: LimiterFactory = options => new RateLimiterMemory(options)

const take = consumePoint

export class LoginLimiter {
  private readonly byIp: RateLimiterAbstract | null
  private readonly byAccountIp: RateLimiterAbstract | null
  private readonly byAccount: RateLimiterAbstract | null
  private readonly byRegisterIp: RateLimiterAbstract | null
  /** `account|place` → 1 while the account has signed in from the place recently (a marker, never consumed). */
  private readonly knownPlaces: RateLimiterAbstract | null
  private readonly knownSeconds: number

  constructor (options: LoginLimiterOptions) {
    const create = options.createLimiter ?? memoryLimiter
    const accountWindow = options.accountWindowSeconds ?? 900
    const limiter = (keyPrefix: string, points: number, duration: number): RateLimiterAbstract | null =>
      points > 0 ? create({ keyPrefix, points, duration }) : null
    this.byIp = limiter('login-ip', options.perIp, options.ipWindowSeconds ?? 60)
    this.byAccountIp = limiter('login-account-ip', options.perAccountIp, accountWindow)
    this.byAccount = limiter('login-account', options.perAccount ?? 0, accountWindow)
    this.byRegisterIp = limiter('register-ip', options.perRegisterIp ?? 0, options.registerWindowSeconds ?? 3600)
    this.knownSeconds = Math.round(Math.min(Math.max(options.knownPlaceDays ?? KNOWN_PLACE_DAYS, 0), 24) * 86400)
    // Only the all-IPs budget needs it: the per-place budgets count the place itself.
    this.knownPlaces = this.byAccount !== null && this.knownSeconds > 0 ? limiter('login-known', 1, this.knownSeconds) : null
  }

  /** Counts a login attempt from `ip` for the account `accountKey`; 429 when any budget is used up. */
  async login (ip: string, accountKey: string): Promise<PasswordCheck> {
    if (this.byIp !== null) await take(this.byIp, clientKey(ip), 'login attempts')
    return await this.passwordCheck(ip, accountKey)
  }

  /**
   * Counts a password check against the account from `ip` (a login, or a signed-in user's password confirmation),
   * before the password is verified. 429 when the account+IP or (from a place not known to the account) the
   * account budget is used up.
   */
  async passwordCheck (ip: string, accountKey: string): Promise<PasswordCheck> {
    const pairKey = `${accountKey}|${clientKey(ip)}`
    if (this.byAccountIp !== null) await take(this.byAccountIp, pairKey, 'password attempts')
    const counted = this.byAccount !== null && !(await this.isKnownPlace(pairKey))
    if (counted && this.byAccount !== null) {
      try {
        await take(this.byAccount, accountKey, 'password attempts for this account')
      } catch (error) {
        // Not checked after all: this place's budget is not spent on it.
        await this.byAccountIp?.reward(pairKey, 1)
        throw error
      }
    }
    return {
      succeeded: async () => {
        await this.byAccountIp?.delete(pairKey)
        if (counted) await this.byAccount?.reward(accountKey, 1)
        // (Re)starts the place's knownPlaceDays.
        await this.knownPlaces?.set(pairKey, 1, this.knownSeconds)
      },
      notChecked: async () => {
        await this.byAccountIp?.reward(pairKey, 1)
        if (counted) await this.byAccount?.reward(accountKey, 1)
      }
    }
  }

  /** True when the account signed in successfully from this place (`account|client key`) within knownPlaceDays. */
  private async isKnownPlace (pairKey: string): Promise<boolean> {
    if (this.knownPlaces === null) return false
    const marker = await this.knownPlaces.get(pairKey)
    return marker !== null && marker.consumedPoints > 0
  }

  /** Counts a registration from `ip`; 429 when the IP has registered too many accounts this hour. */
  async registration (ip: string): Promise<void> {
    if (this.byRegisterIp !== null) await take(this.byRegisterIp, clientKey(ip), 'registrations')
  }
}
