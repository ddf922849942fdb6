/**
 * `npm run create-admin -- --username U --email E --password P`: creates that account as an admin, or promotes
 * the existing account with that username or email. Uses the same configuration as the server (MONGODB_URL, or
 * the embedded engine in DATA_DIR: stop the server first, the data directory is locked while it runs; or run it
 * against `npm run db` through MONGODB_URL). The password may come from ADMIN_PASSWORD instead of the command line.
 */
import { parseArgs } from 'node:util'
import { Value } from 'typebox/value'
import { buildApp } from '../src/app.js'
import { ConfigError, loadConfig } from '../src/config/load-config.js'
import { Email, Password, Username } from '../src/modules/users/users.schemas.js'
import { AppError } from '../src/shared/errors.js'

const USAGE = 'usage: npm run create-admin -- --username U --email E --password P'

function readArgs (): { username: string, email: string, password: string } {
  const { values } = parseArgs({
    options: { username: { type: 'string' }, email: { type: 'string' }, password: { type: 'string' }, help: { type: 'boolean' } },
    strict: true
  })
  if (values.help === true) {
    console.log(USAGE)
    process.exit(0)
  }
  const input = { username: values.username, email: values.email, password: values.password ?? process.env.ADMIN_PASSWORD }
  const problems: string[] = []
  if (input.username === undefined || !Value.Check(Username, input.username)) problems.push('--username: 3-32 of A-Z a-z 0-9 _ . -')
  if (input.email === undefined || !Value.Check(Email, input.email)) problems.push('--email: a valid email')
  if (input.password === undefined || !Value.Check(Password, input.password)) problems.push('--password: at least 8 characters')
  if (problems.length > 0) throw new ConfigError(`${problems.join('; ')}\n${USAGE}`)
  return input as { username: string, email: string, password: string }
}

async function main (): Promise<void> {
  const input = readArgs()
  const config = loadConfig()
  const app = await buildApp(config, { logger: { level: config.logLevel === 'silent' ? 'silent' : 'warn' } })
  try {
    await app.ready()
    const { user, action } = await app.users.ensureAdmin(input, { promote: true })
    const what = { created: 'created admin', promoted: 'promoted to admin', unchanged: 'already an admin' }[action]
    console.log(`${what}: ${user.username} <${user.email ?? ''}> (${String(user._id)})`)
  } finally {
    await app.close()
  }
}

main().catch(error => {
  if (error instanceof ConfigError || error instanceof AppError) console.error(error.message)
  else console.error(error)
  process.exit(1)
})
