/**
 * `npm run db`: serves the embedded MongoDB-compatible engine alone on DB_HOST:DB_PORT with DATA_DIR, so several
 * Parley instances can share one store through MONGODB_URL (a local cluster without Docker).
 */
import pino from 'pino'
import closeWithGrace from 'close-with-grace'
import { configHelp, wantsHelp } from '../src/config/config-help.js'
import { DbServerEnvSchema } from '../src/config/config.schema.js'
import { ConfigError, loadDbServerConfig } from '../src/config/load-config.js'
import { loggerOptions } from '../src/config/log-format.js'
import { startEmbeddedMongo } from '../src/storage/embedded/index.js'

async function main (): Promise<void> {
  if (wantsHelp()) {
    process.stdout.write(configHelp(DbServerEnvSchema, 'npm run db (node dist/scripts/db.js) serves the embedded MongoDB-compatible engine alone.'))
    return
  }
  const config = loadDbServerConfig()
  const logger = pino(loggerOptions(config))
  const engine = await startEmbeddedMongo({ host: config.host, port: config.port, dataDir: config.dataDir, logger })
  logger.info({ url: engine.url, dataDir: config.dataDir ?? ':memory:' }, 'embedded MongoDB-compatible engine serving')
  // The URL alone on stdout, for scripts and humans: MONGODB_URL=<this> npm start
  process.stdout.write(`MONGODB_URL=${engine.url}\n`)
  closeWithGrace({ delay: 10_000 }, async ({ signal, err }) => {
    if (err !== undefined) logger.error({ err }, 'shutting down after an error')
    else logger.info({ signal }, 'shutting down')
    await engine.close()
  })
}

main().catch(error => {
  console.error(error instanceof ConfigError ? error.message : error)
  process.exit(1)
})
