/**
 * Builds a Parley app for one test, on the embedded engine in memory (or, when MONGODB_URL is set, a fresh
 * database on that server), and closes it in the test's teardown.
 */
import { randomBytes } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import { buildApp } from '../../src/app.js'
import { loadConfig, type AppConfig } from '../../src/config/load-config.js'

export interface TeardownHost {
  teardown (fn: () => unknown): void
}

/** A test config: in-memory storage, silent logs, and the given environment overrides. */
export function testConfig (environment: NodeJS.ProcessEnv = {}): AppConfig {
  const external = process.env.MONGODB_URL
  const mongodbUrl = external !== undefined && external !== ''
    ? withDatabase(external, `parley_test_${randomBytes(6).toString('hex')}`)
    : undefined
  return loadConfig({
    NODE_ENV: 'test',
    DATA_DIR: ':memory:',
    LOG_LEVEL: 'silent',
    JWT_SECRET: 'test-secret-that-is-long-enough-0123456789',
    ...(mongodbUrl !== undefined ? { MONGODB_URL: mongodbUrl } : {}),
    ...environment
  })
}

function withDatabase (url: string, dbName: string): string {
  const parsed = new URL(url)
  parsed.pathname = `/${dbName}`
  return parsed.toString()
}

export async function buildTestApp (t: TeardownHost, environment: NodeJS.ProcessEnv = {}): Promise<FastifyInstance> {
  const app = await buildApp(testConfig(environment))
  t.teardown(async () => {
    if (app.storage?.embedded === null) await app.storage.connection.dropDatabase().catch(() => {})
    await app.close()
  })
  await app.ready()
  return app
}
