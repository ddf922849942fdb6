/**
 * Process entry: config -> buildApp -> listen, and a graceful shutdown on SIGTERM/SIGINT.
 * The only module with side effects.
 */
import closeWithGrace from 'close-with-grace'
import { buildApp } from './app.js'
import { ConfigError, loadConfig } from './config/load-config.js'

async function main (): Promise<void> {
  let config
  try {
    config = loadConfig()
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message)
      process.exit(1)
    }
    throw error
  }

  const app = await buildApp(config)
  if (config.jwtSecretGenerated) {
    app.log.warn('JWT_SECRET is not set: using a random secret, so tokens stop working when this process restarts')
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
