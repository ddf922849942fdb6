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

t.test('docker-compose.yml is valid and has the cluster topology', { skip }, async t => {
  await run('docker-compose', ['config', '-q'], { cwd: root })
  const { stdout } = await run('docker-compose', ['config', '--services'], { cwd: root })
  const services = stdout.trim().split('\n').sort()
  t.same(services, ['lb', 'mongo', 'parley1', 'parley2', 'parley3', 'redis'])
  const { stdout: full } = await run('docker-compose', ['config'], { cwd: root })
  t.match(full, /--replSet/, 'MongoDB runs as a replica set')
  t.match(full, /REDIS_URL: redis:\/\/redis:6379/, 'instances share Redis')
  t.match(full, /MONGODB_URL: mongodb:\/\/mongo:27017\/parley\?replicaSet=rs0/, 'instances share MongoDB')
})

t.test('the load balancer upgrades WebSockets and keeps sessions sticky', async t => {
  const nginx = readFileSync(new URL('../../scripts/docker/nginx.conf', import.meta.url), 'utf8')
  t.match(nginx, /ip_hash;/)
  t.match(nginx, /proxy_set_header Upgrade \$http_upgrade;/)
  t.match(nginx, /proxy_set_header Connection \$connection_upgrade;/)
  for (const instance of ['parley1', 'parley2', 'parley3']) t.match(nginx, new RegExp(`server ${instance}:3000`))
})
