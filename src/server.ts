/**
 * Process entry: config -> buildApp -> listen, and a graceful shutdown on SIGTERM/SIGINT.
 * The only module with side effects. `--help` prints the configuration variables and exits.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import closeWithGrace from 'close-with-grace'
import { buildApp } from './app.js'
import { configHelp, envExampleNotes, wantsHelp } from './config/config-help.js'
import { EnvSchema } from './config/config.schema.js'
import { withDevelopmentSecret, type SecretSource } from './config/development-secret.js'
import { ConfigError, loadConfig } from './config/load-config.js'
import { loggerOptions, prettyAvailable } from './config/log-format.js'
import { packageRoot } from './shared/package-info.js'

/** The start-up line about the token secret, when it is not the operator's JWT_SECRET. */
const SECRET_NOTES: Record<Exclude<SecretSource, 'environment'>, string> = {
  random: 'JWT_SECRET is not set: using a random secret, so tokens stop working when this process restarts',
  created: 'JWT_SECRET is not set: generated a development secret and kept it in the data directory (mode 0600), so sessions survive restarts; set JWT_SECRET in production',
  kept: 'JWT_SECRET is not set: using the development secret kept in the data directory; set JWT_SECRET in production'
}

/** .env.example's notes for --help; none when it is not beside the package (the schema's lines still print). */
function exampleNotes (): Map<string, string> {
  try {
    return envExampleNotes(readFileSync(join(packageRoot(), '.env.example'), 'utf8'))
  } catch {
    return new Map()
  }
}

async function main (): Promise<void> {
  if (wantsHelp()) {
    process.stdout.write(configHelp(EnvSchema, 'Parley: npm start (node dist/src/server.js) serves the API, Socket.IO and the web app.', exampleNotes()))
    return
  }
  let config
  let secret
  try {
    secret = withDevelopmentSecret(loadConfig())
    config = secret.config
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message)
      process.exit(1)
    }
    throw error
  }

  const app = await buildApp(config, { logger: loggerOptions(config) })
  if (secret.source !== 'environment') {
    app.log[secret.source === 'random' ? 'warn' : 'info']({ file: secret.file }, SECRET_NOTES[secret.source])
  }
  if (config.logFormat === 'pretty' && !prettyAvailable()) {
    app.log.warn('LOG_FORMAT=pretty but pino-pretty is not installed (it is a dev dependency): logging JSON lines')
  }

  closeWithGrace({ delay: 10_000 }, async ({ signal, err }) => {
    if (err !== undefined) app.log.error({ err }, 'shutting down after an error')
    else app.log.info({ signal }, 'shutting down: draining connections')
    await app.close()
  })

  await app.listen({ port: config.port, host: config.host })
  const shownHost = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host
  app.log.info({
    url: `http://${shownHost}:${config.port}`,
    docs: `http://${shownHost}:${config.port}/docs`,
    storage: config.mongodbUrl !== null ? 'mongodb' : config.dataDir ?? ':memory:'
  }, `Parley listening on http://${shownHost}:${config.port} (data: ${config.mongodbUrl !== null ? 'MongoDB' : config.dataDir ?? 'in memory'})`)
}

main().catch(error => {
  console.error(error)
  process.exit(1)
})
