/**
 * Builds a Parley app for one test, on the embedded engine in memory (or, when MONGODB_URL is set, a fresh
 * database on that server), and closes it in the test's teardown.
 */
import { randomBytes } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import { buildApp, type BuildOptions } from '../../src/app.js'
import { loadConfig, type AppConfig } from '../../src/config/load-config.js'

export interface TeardownHost {
  teardown (fn: () => unknown): void
}

/** The JWT_SECRET every test config (and every test process) uses. */
export const TEST_SECRET = 'test-secret-that-is-long-enough-0123456789'

/** argon2 parameters that make registering and logging in cheap (tests need speed, not hash strength). */
export const FAST_ARGON2 = { ARGON2_MEMORY_KIB: '64', ARGON2_TIME_COST: '1', ARGON2_PARALLELISM: '1' }

/** True when the tests run against a real MongoDB (MONGODB_URL) instead of the embedded engine. */
export const EXTERNAL_MONGODB = process.env.MONGODB_URL !== undefined && process.env.MONGODB_URL !== ''

/** A test config: in-memory storage, silent logs, and the given environment overrides. */
export function testConfig (environment: NodeJS.ProcessEnv = {}): AppConfig {
  const mongodbUrl = EXTERNAL_MONGODB
    ? withDatabase(process.env.MONGODB_URL as string, `parley_test_${randomBytes(6).toString('hex')}`)
    : undefined
  return loadConfig({
    NODE_ENV: 'test',
    DATA_DIR: ':memory:',
    // The engine on the app's loop: a thread per app would add its start-up to hundreds of apps. The thread's own
    // tests (test/storage/engine-thread.test.ts) and every Parley process the tests start run it on its thread.
    DB_THREAD: 'false',
    LOG_LEVEL: 'silent',
    JWT_SECRET: TEST_SECRET,
    ...(mongodbUrl !== undefined ? { MONGODB_URL: mongodbUrl } : {}),
    ...environment
  })
}

/** `url` (a MongoDB URL) naming the database `dbName`. */
export function withDatabase (url: string, dbName: string): string {
  const parsed = new URL(url)
  parsed.pathname = `/${dbName}`
  return parsed.toString()
}

/**
 * Options of buildTestApp beyond the environment.
 */
export interface TestAppOptions {
  /** buildApp options. Default none. */
  build?: BuildOptions
  /** Runs before `ready()`, e.g. to add routes only this test needs. Default none. */
  setup?: (app: FastifyInstance) => void | Promise<void>
}

export async function buildTestApp (t: TeardownHost, environment: NodeJS.ProcessEnv = {}, options: TestAppOptions = {}): Promise<FastifyInstance> {
  const app = await buildApp(testConfig(environment), options.build)
  t.teardown(async () => {
    if (app.storage?.embedded === null) await app.storage.connection.dropDatabase().catch(() => {})
    await app.close()
  })
  await options.setup?.(app)
  await app.ready()
  return app
}

/** buildTestApp with cheap argon2: for tests that register and log in users. */
export async function buildAuthApp (t: TeardownHost, environment: NodeJS.ProcessEnv = {}, options: TestAppOptions = {}): Promise<FastifyInstance> {
  return await buildTestApp(t, { ...FAST_ARGON2, ...environment }, options)
}

/** buildAuthApp without the message rate limit: for tests that send many messages. */
export async function buildChatApp (t: TeardownHost, environment: NodeJS.ProcessEnv = {}, options: TestAppOptions = {}): Promise<FastifyInstance> {
  return await buildAuthApp(t, { RATE_LIMIT_MESSAGES: '0', ...environment }, options)
}

/** Listens on a free loopback port; resolves with `http://127.0.0.1:<port>`. */
export async function listen (app: FastifyInstance): Promise<string> {
  await app.listen({ port: 0, host: '127.0.0.1' })
  const address = app.server.address()
  if (address === null || typeof address === 'string') throw new Error('not listening on TCP')
  return `http://127.0.0.1:${address.port}`
}
