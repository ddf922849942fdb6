import argon2 from 'argon2'

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
}

export const OWASP_MINIMUM = { memoryKib: 19456, timeCost: 2, parallelism: 1 } as const

/** Hashes and verifies passwords with argon2id (salted, PHC strings that carry their own parameters). */
export class PasswordService {
  readonly options: Required<Omit<PasswordOptions, 'maxConcurrent'>>
  readonly maxConcurrent: number
  private dummyHash: Promise<string> | null = null
  private running = 0
  private readonly waiting: Array<() => void> = []

  constructor (options: PasswordOptions = {}) {
    this.options = {
      memoryKib: options.memoryKib ?? OWASP_MINIMUM.memoryKib,
      timeCost: options.timeCost ?? OWASP_MINIMUM.timeCost,
      parallelism: options.parallelism ?? OWASP_MINIMUM.parallelism
    }
    this.maxConcurrent = Math.max(1, options.maxConcurrent ?? 2)
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

  /** Runs `work` once fewer than `maxConcurrent` others run; a finished one hands its slot to the next in line. */
  private async inSlot<T> (work: () => Promise<T>): Promise<T> {
    if (this.running >= this.maxConcurrent) {
      await new Promise<void>(resolve => this.waiting.push(resolve))
    } else {
      this.running++
    }
    try {
      return await work()
    } finally {
      const next = this.waiting.shift()
      if (next !== undefined) next()
      else this.running--
    }
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
