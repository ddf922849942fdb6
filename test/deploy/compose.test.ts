import t from 'tap'
import { execFile } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { promisify } from 'node:util'

const run = promisify(execFile)
const root = new URL('../../', import.meta.url).pathname

async function hasDockerCompose (): Promise<boolean> {
  try {
    await run('docker-compose', ['version'])
    return true
  } catch {
    return false
  }
}

const skip = (await hasDockerCompose()) ? false : 'docker-compose is not installed (.ci/run installs it)'

// The operator's own secret, as `JWT_SECRET=$(openssl rand -base64 48) docker-compose up` passes it.
const SECRET = 'Zs4n0r9PqL2xW7vB1mT8yK3cH6dF5gJ0aQ'
/** The environment without JWT_SECRET (whatever this process has), plus `extra`. */
function composeEnv (extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const { JWT_SECRET: _ignored, ...env } = process.env
  return { ...env, ...extra }
}

t.test('docker-compose.yml is valid and has the cluster topology', { skip }, async t => {
  const env = composeEnv({ JWT_SECRET: SECRET })
  await run('docker-compose', ['config', '-q'], { cwd: root, env })
  const { stdout } = await run('docker-compose', ['config', '--services'], { cwd: root, env })
  const services = stdout.trim().split('\n').sort()
  t.same(services, ['lb', 'mongo', 'parley1', 'parley2', 'parley3', 'redis'])
  const { stdout: full } = await run('docker-compose', ['config'], { cwd: root, env })
  t.match(full, /--replSet/, 'MongoDB runs as a replica set')
  t.match(full, /REDIS_URL: redis:\/\/redis:6379/, 'instances share Redis')
  t.match(full, /MONGODB_URL: mongodb:\/\/mongo:27017\/parley\?replicaSet=rs0/, 'instances share MongoDB')
  t.equal(full.split(`JWT_SECRET: ${SECRET}`).length - 1, 3, 'every instance gets the operator\'s secret')
})

t.test('compose refuses to start without JWT_SECRET, naming it', { skip }, async t => {
  for (const env of [composeEnv(), composeEnv({ JWT_SECRET: '' })]) {
    const failure = await run('docker-compose', ['config', '-q'], { cwd: root, env }).then(() => null, (error: { stderr: string }) => error)
    t.ok(failure !== null, 'refused')
    t.match(failure?.stderr, /set JWT_SECRET/)
  }
})

t.test('the instances trust exactly the load balancer, which has that fixed address', { skip }, async t => {
  const { stdout: full } = await run('docker-compose', ['config'], { cwd: root, env: composeEnv({ JWT_SECRET: SECRET }) })
  const trusted = [...full.matchAll(/TRUST_PROXY: (.+)/g)].map(m => m[1].trim().replace(/^['"]|['"]$/g, ''))
  t.same(trusted, ['172.28.0.10', '172.28.0.10', '172.28.0.10'])
  t.match(full, /ipv4_address: 172\.28\.0\.10/, 'the load balancer has the trusted address')
  t.match(full, /ip_range: 172\.28\.0\.128\/25/, 'no other container can be given that address')
})

t.test('the load balancer upgrades WebSockets and keeps sessions sticky', async t => {
  const nginx = readFileSync(new URL('../../scripts/docker/nginx.conf', import.meta.url), 'utf8')
  t.match(nginx, /ip_hash;/)
  t.match(nginx, /proxy_set_header Upgrade \$http_upgrade;/)
  t.match(nginx, /proxy_set_header Connection \$connection_upgrade;/)
  for (const instance of ['parley1', 'parley2', 'parley3']) t.match(nginx, new RegExp(`server ${instance}:3000`))
})

t.test('the load balancer sets the client address instead of passing on what the client sent', async t => {
  const nginx = readFileSync(new URL('../../scripts/docker/nginx.conf', import.meta.url), 'utf8')
  const directives = nginx.split('\n').filter(line => !line.trim().startsWith('#')).join('\n')
  t.notMatch(directives, /\$proxy_add_x_forwarded_for/, 'a client\'s own X-Forwarded-For is not appended to')
  t.match(directives, /proxy_set_header X-Forwarded-For \$remote_addr;/)
  t.match(directives, /proxy_set_header X-Real-IP \$remote_addr;/)
})
