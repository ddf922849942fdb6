import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import { initModels, registerModels, type Models } from './index.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** The mongoose models on `app.storage.connection`. */
    models: Models
  }
}

/** Registers the models on the storage plugin's connection and waits for their indexes. */
async function modelsPlugin (app: FastifyInstance): Promise<void> {
  const models = registerModels(app.storage.connection)
  await initModels(models)
  app.decorate('models', models)
}

export default fp(modelsPlugin, { name: 'models', fastify: '5.x', dependencies: ['storage'] })
