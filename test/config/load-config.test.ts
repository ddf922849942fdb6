import t from 'tap'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { ConfigError, loadConfig, loadDbServerConfig, parseDuration } from '../../src/config/load-config.js'
import { EnvSchema } from '../../src/config/config.schema.js'

t.test('defaults give a runnable development config on the embedded engine', async t => {
  const config = loadConfig({})
  t.equal(config.env, 'development')
  t.equal(config.port, 3000)
  t.equal(config.mongodbUrl, null)
  t.equal(config.dataDir, path.resolve('./data'))
  t.equal(config.redisUrl, null)
  t.equal(config.accessTokenTtlSeconds, 900)
  t.equal(config.refreshTokenTtlSeconds, 30 * 86400)
  t.equal(config.uploadMaxBytes, 26214400)
  t.equal(config.messageMaxBytes, 16384)
  t.equal(config.rateLimitMessages, 100)
  t.equal(config.rateLimitLogin, 10)
  t.equal(config.rateLimitLoginAccount, 10)
  t.equal(config.rateLimitLoginAccountTotal, 100)
  t.equal(config.rateLimitRegister, 20)
  t.equal(config.sessionMaxAgeSeconds, 90 * 86400)
  t.same(config.argon2, { memoryKib: 19456, timeCost: 2, parallelism: 1, maxConcurrent: 2 })
  t.same(config.corsOrigins, [])
  t.equal(config.trustProxy, false)
  t.equal(config.jwtSecretGenerated, true)
  t.ok(config.jwtSecret.length >= 32, 'a generated secret is long enough')
  t.not(loadConfig({}).jwtSecret, config.jwtSecret, 'each process gets its own random secret')
})

t.test('values are converted from strings', async t => {
  const config = loadConfig({
    PORT: '8080',
    MONGODB_URL: 'mongodb://db:27017/parley',
    REDIS_URL: 'redis://cache:6379',
    DATA_DIR: ':memory:',
    ACCESS_TOKEN_TTL: '120',
    REFRESH_TOKEN_TTL: '2h',
    RATE_LIMIT_MESSAGES: '0',
    RATE_LIMIT_LOGIN_ACCOUNT: '0',
    ARGON2_MEMORY_KIB: '65536',
    ARGON2_TIME_COST: '3',
    ARGON2_PARALLELISM: '2',
    ARGON2_MAX_CONCURRENT: '4',
    RATE_LIMIT_LOGIN_ACCOUNT_TOTAL: '50',
    RATE_LIMIT_REGISTER: '0',
    SESSION_MAX_AGE: '7d',
    CORS_ORIGINS: 'https://a.example, https://b.example',
    TRUST_PROXY: '10.0.0.0/8,127.0.0.1',
    JWT_SECRET: 'k3Jd8s0Qm2Zr7Tq9Vw1Xy4Bn6Lp5Hc0A'
  })
  t.equal(config.port, 8080)
  t.equal(config.mongodbUrl, 'mongodb://db:27017/parley')
  t.equal(config.redisUrl, 'redis://cache:6379')
  t.equal(config.dataDir, null)
  t.equal(config.accessTokenTtlSeconds, 120)
  t.equal(config.refreshTokenTtlSeconds, 7200)
  t.equal(config.rateLimitMessages, 0)
  t.equal(config.rateLimitLoginAccount, 0)
  t.same(config.argon2, { memoryKib: 65536, timeCost: 3, parallelism: 2, maxConcurrent: 4 })
  t.equal(config.rateLimitLoginAccountTotal, 50)
  t.equal(config.rateLimitRegister, 0)
  t.equal(config.sessionMaxAgeSeconds, 7 * 86400)
  t.same(config.corsOrigins, ['https://a.example', 'https://b.example'])
  t.same(config.trustProxy, ['10.0.0.0/8', '127.0.0.1'])
  t.equal(config.jwtSecretGenerated, false)
  t.equal(loadConfig({ CORS_ORIGINS: '*', TRUST_PROXY: 'true' }).corsOrigins, '*')
  t.equal(loadConfig({ TRUST_PROXY: 'true' }).trustProxy, true)
})

t.test('an empty value counts as unset', async t => {
  t.equal(loadConfig({ MONGODB_URL: '', PORT: '' }).mongodbUrl, null)
  t.equal(loadConfig({ PORT: '' }).port, 3000)
})

t.test('bad values fail fast, naming each variable', async t => {
  const cases: Array<[NodeJS.ProcessEnv, RegExp]> = [
    [{ PORT: 'abc' }, /PORT: must be a whole number \(got "abc"\)/],
    [{ PORT: '70000' }, /PORT: must be <= 65535/],
    [{ PORT: '3000.5' }, /PORT: must be a whole number \(got "3000.5"\)/],
    [{ UPLOAD_MAX_BYTES: '1e6' }, /UPLOAD_MAX_BYTES: must be a whole number/],
    [{ MESSAGE_MAX_BYTES: '-1' }, /MESSAGE_MAX_BYTES/],
    [{ LOG_LEVEL: 'loud' }, /LOG_LEVEL: must be one of fatal, error, warn, info, debug, trace, silent/],
    [{ NODE_ENV: 'staging' }, /NODE_ENV: must be one of development, production, test/],
    [{ MONGODB_URL: 'postgres://x' }, /MONGODB_URL/],
    [{ REDIS_URL: 'localhost:6379' }, /REDIS_URL/],
    [{ ACCESS_TOKEN_TTL: '15 minutes' }, /ACCESS_TOKEN_TTL/],
    [{ JWT_SECRET: 'short' }, /JWT_SECRET/],
    [{ ARGON2_TIME_COST: '0' }, /ARGON2_TIME_COST/],
    [{ ARGON2_PARALLELISM: '17' }, /ARGON2_PARALLELISM: must be <= 16/],
    [{ ARGON2_MEMORY_KIB: 'lots' }, /ARGON2_MEMORY_KIB/],
    [{ NODE_ENV: 'production' }, /JWT_SECRET: required when NODE_ENV=production/],
    [{ ADMIN_USERNAME: 'root' }, /ADMIN_USERNAME, ADMIN_EMAIL, ADMIN_PASSWORD: set all three or none/]
  ]
  for (const [environment, message] of cases) {
    t.throws(() => loadConfig(environment), message, JSON.stringify(environment))
    t.throws(() => loadConfig(environment), ConfigError)
  }
  t.throws(() => loadConfig({ PORT: 'x', UPLOAD_MAX_BYTES: 'y' }), /PORT.*UPLOAD_MAX_BYTES/, 'every bad variable is named at once')
})

t.test('production with a secret and a complete admin', async t => {
  const config = loadConfig({
    NODE_ENV: 'production', JWT_SECRET: 'q8Vh2Lr5Nw0Ez7Kc3Tb9Ym6Fs1Pd4Gx0Ua2', TRUST_PROXY: '172.28.0.10', ADMIN_USERNAME: 'root', ADMIN_EMAIL: 'root@example.com', ADMIN_PASSWORD: 'longenough'
  })
  t.equal(config.env, 'production')
  t.same(config.admin, { username: 'root', email: 'root@example.com', password: 'longenough' })
})

t.test('JWT_SECRET: example and trivially weak secrets are refused outside NODE_ENV=test, naming the variable', async t => {
  const composeFallback = 'dev-only-secret-change-me-0123456789abcdef'
  const refused = [
    composeFallback,
    'test-secret-that-is-long-enough-0123456789',
    'cluster-test-secret-that-is-long-enough-0123',
    'bench-secret-that-is-long-enough-0123456789',
    'bench-cluster-secret-that-is-long-enough-0123456789',
    'x'.repeat(32),
    's'.repeat(40),
    'abababababababababababababababab',
    'please-change-me-to-something-long-enough',
    'your-jwt-secret-goes-here-at-least-32-chars'
  ]
  for (const NODE_ENV of ['production', 'development']) {
    for (const JWT_SECRET of refused) {
      t.throws(() => loadConfig({ NODE_ENV, JWT_SECRET }), /^JWT_SECRET: refused/, `${NODE_ENV}: ${JWT_SECRET}`)
    }
  }
  // Every secret this repository prints in docs and examples is on the list.
  const compose = readFileSync(new URL('../../docker-compose.yml', import.meta.url), 'utf8')
  t.notMatch(compose, /JWT_SECRET:-/, 'compose has no fallback secret any more')
  const example = readFileSync(new URL('../../.env.example', import.meta.url), 'utf8')
  const exampleSecret = /^JWT_SECRET=(.*)$/m.exec(example)?.[1] ?? ''
  if (exampleSecret !== '') t.throws(() => loadConfig({ JWT_SECRET: exampleSecret }), /JWT_SECRET/)
  t.equal(loadConfig({ NODE_ENV: 'test', JWT_SECRET: 'test-secret-that-is-long-enough-0123456789' }).env, 'test', 'the test kit\'s secret works in tests')
  const random = 'Zs4n0r9PqL2xW7vB1mT8yK3cH6dF5gJ0'
  t.equal(loadConfig({ NODE_ENV: 'production', JWT_SECRET: random }).jwtSecret, random, 'a random secret is accepted')
})

t.test('TRUST_PROXY=true is refused in production; addresses/CIDRs are accepted', async t => {
  const secret = 'Zs4n0r9PqL2xW7vB1mT8yK3cH6dF5gJ0'
  t.throws(() => loadConfig({ NODE_ENV: 'production', JWT_SECRET: secret, TRUST_PROXY: 'true' }), /^TRUST_PROXY: /)
  t.same(loadConfig({ NODE_ENV: 'production', JWT_SECRET: secret, TRUST_PROXY: '172.28.0.10' }).trustProxy, ['172.28.0.10'])
  t.equal(loadConfig({ NODE_ENV: 'development', TRUST_PROXY: 'true' }).trustProxy, true, 'allowed outside production')
})

t.test('durations', async t => {
  t.equal(parseDuration('45'), 45)
  t.equal(parseDuration('45s'), 45)
  t.equal(parseDuration('15m'), 900)
  t.equal(parseDuration('1d'), 86400)
  t.throws(() => parseDuration('1w'), ConfigError)
})

t.test('npm run db reads only its own variables', async t => {
  const config = loadDbServerConfig({ NODE_ENV: 'production', DB_PORT: '27018', DATA_DIR: '/tmp/parley-db' })
  t.same(config, { env: 'production', host: '127.0.0.1', port: 27018, dataDir: '/tmp/parley-db', logLevel: 'info', logFormat: 'auto' })
  t.throws(() => loadDbServerConfig({ DB_PORT: 'x' }), /DB_PORT/)
})

t.test('.env.example lists exactly the schema\'s variables', async t => {
  const example = readFileSync(new URL('../../.env.example', import.meta.url), 'utf8')
  const listed = [...example.matchAll(/^([A-Z0-9_]+)=/gm)].map(m => m[1]).sort()
  t.same(listed, Object.keys(EnvSchema.properties).sort())
})
