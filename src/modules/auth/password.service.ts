import argon2 from 'argon2'

/** argon2id cost parameters. Defaults are OWASP's minimum: 19 MiB, 2 iterations, 1 lane. */
export interface PasswordOptions {
  /** Memory in KiB. Default 19456. */
  memoryKib?: number
  /** Iterations. Default 2. */
  timeCost?: number
  /** Lanes. Default 1. */
  parallelism?: number
}

export const OWASP_MINIMUM = { memoryKib: 19456, timeCost: 2, parallelism: 1 } as const

/** Hashes and verifies passwords with argon2id (salted, PHC strings that carry their own parameters). */
export class PasswordService {
  readonly options: Required<PasswordOptions>
  private dummyHash: Promise<string> | null = null

  constructor (options: PasswordOptions = {}) {
    this.options = {
      memoryKib: options.memoryKib ?? OWASP_MINIMUM.memoryKib,
      timeCost: options.timeCost ?? OWASP_MINIMUM.timeCost,
      parallelism: options.parallelism ?? OWASP_MINIMUM.parallelism
    }
  }

  async hash (password: string): Promise<string> {
    return await argon2.hash(password, {
      type: argon2.argon2id,
      memoryCost: this.options.memoryKib,
      timeCost: this.options.timeCost,
      parallelism: this.options.parallelism
    })
  }

  /** False for a wrong password and for a hash argon2 cannot read (never throws for bad input). */
  async verify (hash: string, password: string): Promise<boolean> {
    try {
      return await argon2.verify(hash, password)
    } catch {
      return false
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
