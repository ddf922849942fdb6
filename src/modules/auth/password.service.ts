import argon2 from 'argon2'
import { rateLimited } from '../../shared/errors.js'

/** argon2id cost parameters. Defaults are OWASP's minimum: 19 MiB, 2 iterations, 1 lane. */
export interface PasswordOptions {
  /** Memory in KiB. Default 19456. */
  memoryKib?: number
  /** Iterations. Default 2. */
  timeCost?: number
  /** Lanes. Default 1. */
  parallelism?: number
  /**
   * Hashes and verifications computed at once; the others wait in line (first come, first served). Default 2.
   * argon2 runs on libuv's threadpool (4 threads unless UV_THREADPOOL_SIZE), which the embedded engine's file
   * writes share: a flood of logins or registrations must leave threads free for them.
   */
  maxConcurrent?: number
  /**
   * Hashes and verifications waiting for a slot at most; one more is refused at once with 429 RATE_LIMITED and
   * Retry-After (`retryAfterMs`). Default 32 × maxConcurrent (64 with the default 2): a flood of logins for
   * unknown names from many IPs must not make every real login wait behind it.
   */
  maxWaiting?: number
  /** Longest wait for a slot, in ms; past it the caller gets 429 RATE_LIMITED with Retry-After. Default 5000. */
  maxWaitMs?: number
  /** The Retry-After of those 429s, in ms. Default 1000. */
  retryAfterMs?: number
}

/** Default `maxWaiting` per slot (`maxConcurrent`). */
export const WAITING_PER_SLOT = 32
/** Default `maxWaitMs`. */
export const MAX_WAIT_MS = 5000

export const OWASP_MINIMUM = { memoryKib: 19456, timeCost: 2, parallelism: 1 } as const

/** Hashes and verifies passwords with argon2id (salted, PHC strings that carry their own parameters). */
export class PasswordService {
  readonly options: Required<Pick<PasswordOptions, 'memoryKib' | 'timeCost' | 'parallelism'>>
  readonly maxConcurrent: number
  readonly maxWaiting: number
  readonly maxWaitMs: number
  private readonly retryAfterMs: number
  private dummyHash: Promise<string> | null = null
  private running = 0
  /** In line for a slot, first come first served; each is handed its slot by `go` (or leaves at its deadline). */
  private readonly waiting: Array<{ go: () => void }> = []

  constructor (options: PasswordOptions = {}) {
    this.options = {
      memoryKib: options.memoryKib ?? OWASP_MINIMUM.memoryKib,
      timeCost: options.timeCost ?? OWASP_MINIMUM.timeCost,
      parallelism: options.parallelism ?? OWASP_MINIMUM.parallelism
    }
    this.maxConcurrent = Math.max(1, options.maxConcurrent ?? 2)
    this.maxWaiting = Math.max(0, options.maxWaiting ?? WAITING_PER_SLOT * this.maxConcurrent)
    this.maxWaitMs = Math.max(1, options.maxWaitMs ?? MAX_WAIT_MS)
    this.retryAfterMs = options.retryAfterMs ?? 1000
  }

  /** Hashes being computed now and waiting for a slot (for metrics and load checks). */
  get load (): { running: number, waiting: number } {
    return { running: this.running, waiting: this.waiting.length }
  }

  async hash (password: string): Promise<string> {
    return await this.inSlot(async () => await argon2.hash(password, {
      type: argon2.argon2id,
      memoryCost: this.options.memoryKib,
      timeCost: this.options.timeCost,
      parallelism: this.options.parallelism
    }))
  }

  /** False for a wrong password and for a hash argon2 cannot read (never throws for bad input). */
  async verify (hash: string, password: string): Promise<boolean> {
    return await this.inSlot(async () => {
      try {
        return await argon2.verify(hash, password)
      } catch {
        return false
      }
    })
  }

  /**
   * Runs `work` once fewer than `maxConcurrent` others run; a finished one hands its slot to the next in line.
   * 429 RATE_LIMITED (Retry-After) instead when `maxWaiting` are already in line, or after `maxWaitMs` in line.
   */
  private async inSlot<T> (work: () => Promise<T>): Promise<T> {
    if (this.running >= this.maxConcurrent) {
      if (this.waiting.length >= this.maxWaiting) throw this.busy()
      await new Promise<void>((resolve, reject) => {
        const entry = {
          go: () => {
            clearTimeout(timer)
            resolve()
          }
        }
        const timer = setTimeout(() => {
          // Still in line (a handed-over slot clears the timer first): leave it.
          const at = this.waiting.indexOf(entry)
          if (at >= 0) this.waiting.splice(at, 1)
          reject(this.busy())
        }, this.maxWaitMs)
        timer.unref()
        this.waiting.push(entry)
      })
    } else {
      this.running++
    }
    try {
      return await work()
    } finally {
      const next = this.waiting.shift()
      if (next !== undefined) next.go()
      else this.running--
    }
  }

  private busy (): Error {
    return rateLimited(this.retryAfterMs, 'password checks at once: the server is busy')
  }

  /**
   * Spends the same time as a real verification and answers false: used when the account does not exist, so an
   * unknown user and a wrong password cannot be told apart by timing.
   */
  async verifyDummy (password: string): Promise<false> {
    this.dummyHash ??= this.hash('parley-dummy-password-never-matches')
    await this.verify(await this.dummyHash, password)
    return false
  }

  /** True when a stored hash was made with other parameters than today's (rehash it at the next login). */
  needsRehash (hash: string): boolean {
    try {
      return argon2.needsRehash(hash, {
        memoryCost: this.options.memoryKib,
        timeCost: this.options.timeCost,
        parallelism: this.options.parallelism
      })
    } catch {
      return false
    }
  }
}
