/**
 * A JWT secret that survives restarts in development: without JWT_SECRET a random secret would log every client
 * out at each restart. So when NODE_ENV=development and the data lives on disk, one is generated once and kept in
 * DATA_DIR/jwt-secret (mode 0600; two processes starting together agree on one). Never in
 * production (JWT_SECRET is required there) or in tests, and not with DATA_DIR=:memory: (a random secret per
 * process, as before).
 */
import { randomBytes } from 'node:crypto'
import { chmodSync, linkSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { ConfigError, type AppConfig } from './load-config.js'
import { weakSecretReason } from './jwt-secret.js'

export const SECRET_FILE = 'jwt-secret'

/** Where the config's secret came from, for the start-up log line. */
export type SecretSource = 'environment' | 'random' | 'created' | 'kept'

/** The config with its secret taken from (or first written to) DATA_DIR when that applies; `source` says which. */
export function withDevelopmentSecret (config: AppConfig): { config: AppConfig, source: SecretSource, file?: string } {
  if (!config.jwtSecretGenerated) return { config, source: 'environment' }
  if (config.env !== 'development' || config.dataDir === null) return { config, source: 'random' }
  const file = join(config.dataDir, SECRET_FILE)
  const created = createSecretFile(config.dataDir, file)
  const secret = readSecretFile(file)
  return { config: { ...config, jwtSecret: secret, jwtSecretGenerated: false }, source: created ? 'created' : 'kept', file }
}

/**
 * Writes a new secret unless the file exists; true when this call created it. The secret goes to a file of its own
 * first and is then linked into place, so a process starting at the same moment never reads a half-written file.
 */
function createSecretFile (dataDir: string, file: string): boolean {
  mkdirSync(dataDir, { recursive: true })
  const draft = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`
  try {
    writeFileSync(draft, randomBytes(48).toString('base64url') + '\n', { mode: 0o600, flag: 'wx' })
    // The umask may have narrowed the mode further, never widened it; make it exactly 0600.
    chmodSync(draft, 0o600)
    try {
      linkSync(draft, file)
    } catch (error) {
      // Filesystems without hard links (some container and shared mounts): an exclusive create instead.
      if (!['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'EXDEV'].includes((error as NodeJS.ErrnoException).code ?? '')) throw error
      writeFileSync(file, readFileSync(draft), { mode: 0o600, flag: 'wx' })
    }
    return true
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false
    throw new ConfigError(`JWT_SECRET is not set and ${file} cannot be created: ${(error as Error).message}`)
  } finally {
    rmSync(draft, { force: true })
  }
}

function readSecretFile (file: string): string {
  let mode: number
  let secret: string
  try {
    mode = statSync(file).mode & 0o777
    secret = readFileSync(file, 'utf8').trim()
  } catch (error) {
    throw new ConfigError(`JWT_SECRET is not set and ${file} cannot be read: ${(error as Error).message}`)
  }
  // Windows reports every file as 0666: there the check says nothing.
  if (process.platform !== 'win32' && (mode & 0o077) !== 0) {
    throw new ConfigError(`${file} is readable by other users (mode ${mode.toString(8)}): chmod 600 it, or delete it to make a new one`)
  }
  const weakness = secret.length < 32 ? 'is shorter than 32 characters' : weakSecretReason(secret)
  if (weakness !== null) throw new ConfigError(`${file}: refused, the secret in it ${weakness}; delete the file to make a new one`)
  return secret
}
