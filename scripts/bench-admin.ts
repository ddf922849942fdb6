/**
 * bench:admin — admin history over a large store: with `--messages` (default 1,000,000) messages in the database,
 * the latency of filtered GET /api/admin/messages queries (sender + date range, conversation + q, participant + date
 * range) and the NDJSON export's messages/s and the server's peak RSS growth. The baseline, in the same run: the same
 * reads made directly with the MongoDB driver from this process (what the database alone costs).
 *
 *   npm run bench:admin -- [--messages 1000000] [--users 500] [--conversations 2000] [--queries 200]
 *
 * The database is `npm run db` (the embedded engine) in its own process and Parley is `src/server.ts` in another,
 * so the RSS sampled (/proc/<pid>/status, every 20 ms) is Parley's alone.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { readFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir, cpus, totalmem } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import mongoose, { Types } from 'mongoose'
import { fmt, option, startDbProcess } from './bench-common.js'

const MESSAGES = Number(option('messages', '1000000'))
const USERS = Number(option('users', '500'))
const CONVERSATIONS = Number(option('conversations', '2000'))
const QUERIES = Number(option('queries', '200'))
const DAY = 24 * 3600_000
const START = Date.UTC(2026, 0, 1)
const SPAN = 60 * DAY
const WORDS = ['meeting', 'invoice', 'lunch', 'deploy', 'release', 'ticket', 'coffee', 'budget', 'design', 'review', 'travel', 'report']

async function freePort (): Promise<number> {
  const server = createServer()
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as { port: number }).port
  await new Promise<void>(resolve => server.close(() => { resolve() }))
  return port
}

function rssMb (pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  return match !== null ? Number(match[1]) / 1024 : 0
}

async function startParley (mongodbUrl: string): Promise<{ url: string, child: ChildProcess }> {
  const port = await freePort()
  const script = fileURLToPath(new URL('../src/server.ts', import.meta.url))
  // BENCH_SERVER_NODE_ARGS: extra node flags for the server (e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`).
  const nodeArgs = (process.env.BENCH_SERVER_NODE_ARGS ?? '').split(' ').filter(arg => arg !== '')
  const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', script], {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: {
      ...process.env, NODE_ENV: 'test', PORT: String(port), HOST: '127.0.0.1', MONGODB_URL: mongodbUrl, LOG_LEVEL: 'warn',
      JWT_SECRET: 'bench-secret-that-is-long-enough-0123456789', ADMIN_USERNAME: 'root', ADMIN_EMAIL: 'root@example.com',
      ADMIN_PASSWORD: 'root password', RATE_LIMIT_LOGIN: '0', ARGON2_MEMORY_KIB: '64', ARGON2_TIME_COST: '1'
    }
  })
  const url = `http://127.0.0.1:${port}`
  for (let i = 0; i < 300; i++) {
    if (await fetch(`${url}/ready`).then(res => res.ok, () => false)) return { url, child }
    await new Promise(resolve => setTimeout(resolve, 100))
  }
  throw new Error('Parley did not become ready')
}

const pick = <T>(items: T[]): T => items[Math.floor(Math.random() * items.length)]

/** Users, group conversations of 2-8 members, and messages spread over 60 days, straight into the collections. */
async function seed (db: mongoose.mongo.Db): Promise<{ users: Types.ObjectId[], conversations: Array<{ id: Types.ObjectId, members: Types.ObjectId[] }> }> {
  const now = new Date()
  const users = Array.from({ length: USERS }, () => new Types.ObjectId())
  await db.collection('users').insertMany(users.map((_id, i) => ({
    _id, username: `user${i}`, usernameKey: `user${i}`, email: `user${i}@example.com`, emailKey: `user${i}@example.com`,
    firstName: '', lastName: '', firstNameKey: '', lastNameKey: '', role: 'user', disabled: false, createdAt: now, updatedAt: now
  })))
  const conversations = Array.from({ length: CONVERSATIONS }, (_, i) => {
    const members = [...new Set(Array.from({ length: 2 + (i % 7) }, () => pick(users)))]
    return { id: new Types.ObjectId(), members }
  })
  await db.collection('conversations').insertMany(conversations.map((c, i) => ({
    _id: c.id, type: 'group', name: `Group ${i}`, nameKey: `group ${i}`, subject: '', visibility: 'private',
    members: c.members.map((userId, n) => ({ userId, role: n === 0 ? 'owner' : 'member', joinedAt: now })),
    memberIds: c.members, hiddenFor: [], createdBy: c.members[0], lastSeq: 0, lastMessage: null, lastActivityAt: now, createdAt: now, updatedAt: now
  })))
  const seqs = new Map<Types.ObjectId, number>()
  const batch = 10_000
  const started = Date.now()
  for (let offset = 0; offset < MESSAGES; offset += batch) {
    const docs = []
    for (let i = offset; i < Math.min(MESSAGES, offset + batch); i++) {
      const conversation = pick(conversations)
      const seq = (seqs.get(conversation.id) ?? 0) + 1
      seqs.set(conversation.id, seq)
      docs.push({
        _id: new Types.ObjectId(), conversationId: conversation.id, seq, senderId: pick(conversation.members),
        body: `${pick(WORDS)} ${pick(WORDS)} number ${i}`, attachments: [], createdAt: new Date(START + Math.floor(i * SPAN / MESSAGES))
      })
    }
    await db.collection('messages').insertMany(docs, { ordered: false })
    if ((offset / batch) % 20 === 19) console.log(`  seeded ${fmt((offset + batch) / 1000, 0)}k messages (${fmt((offset + batch) / ((Date.now() - started) / 1000), 0)}/s)`)
  }
  return { users, conversations }
}

function percentile (values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]
}

interface QueryCase { name: string, query: () => Record<string, string>, filter: (query: Record<string, string>) => Record<string, unknown> }

async function timeQueries (url: string, token: string, db: mongoose.mongo.Db, kase: QueryCase): Promise<{ api: number[], driver: number[], rows: number }> {
  const api: number[] = []
  const driver: number[] = []
  let rows = 0
  for (let i = 0; i < QUERIES; i++) {
    const query = kase.query()
    let started = performance.now()
    const res = await fetch(`${url}/api/admin/messages?${new URLSearchParams({ ...query, limit: '50' }).toString()}`, { headers: { authorization: `Bearer ${token}` } })
    const body = await res.json() as { items: unknown[] }
    if (!res.ok) throw new Error(`${kase.name}: ${res.status} ${JSON.stringify(body)}`)
    api.push(performance.now() - started)
    rows += body.items.length
    started = performance.now()
    await db.collection('messages').find(kase.filter(query)).sort({ createdAt: 1, _id: 1 }).limit(51).toArray()
    driver.push(performance.now() - started)
  }
  return { api, driver, rows }
}

/** The server's V8 heap in use and its external memory (Buffers), in MB, from its own /metrics. */
async function heapMb (url: string): Promise<{ heap: number, external: number }> {
  const text = await (await fetch(`${url}/metrics`)).text()
  const read = (name: string): number => Number(new RegExp(`^${name} (\\S+)`, 'm').exec(text)?.[1] ?? 0) / 2 ** 20
  return { heap: read('nodejs_heap_size_used_bytes'), external: read('nodejs_external_memory_bytes') }
}

async function timeExport (url: string, token: string, pid: number): Promise<{ messages: number, seconds: number, rssBefore: number, rssPeak: number, bytes: number, heapBefore: number, heapPeak: number, externalPeak: number }> {
  const rssBefore = rssMb(pid)
  let rssPeak = rssBefore
  const { heap: heapBefore } = await heapMb(url)
  let heapPeak = heapBefore
  let externalPeak = 0
  const sampler = setInterval(() => { rssPeak = Math.max(rssPeak, rssMb(pid)) }, 20)
  const heapSampler = setInterval(() => {
    void heapMb(url).then(({ heap, external }) => { heapPeak = Math.max(heapPeak, heap); externalPeak = Math.max(externalPeak, external) }, () => {})
  }, 250)
  const started = performance.now()
  const res = await fetch(`${url}/api/admin/messages/export`, { headers: { authorization: `Bearer ${token}` } })
  if (!res.ok || res.body === null) throw new Error(`export: ${res.status}`)
  let messages = 0
  let bytes = 0
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    bytes += chunk.length
    for (const byte of chunk) if (byte === 10) messages++
  }
  const seconds = (performance.now() - started) / 1000
  clearInterval(sampler)
  clearInterval(heapSampler)
  return { messages, seconds, rssBefore, rssPeak, bytes, heapBefore, heapPeak, externalPeak }
}

async function main (): Promise<void> {
  const dataDir = await mkdtemp(join(tmpdir(), 'parley-bench-admin-'))
  const db = await startDbProcess(dataDir)
  const mongodbUrl = `${db.url.replace(/\/?(\?|$)/, '/parley-bench$1')}`
  let parley: { url: string, child: ChildProcess } | null = null
  const connection = await mongoose.createConnection(mongodbUrl).asPromise()
  try {
    console.log(`bench:admin on ${cpus().length} cores (${cpus()[0]?.model ?? '?'}), ${fmt(totalmem() / 2 ** 30, 0)} GiB; ${fmt(MESSAGES, 0)} messages, ${USERS} users, ${CONVERSATIONS} conversations`)
    parley = await startParley(mongodbUrl)
    const store = connection.db as unknown as mongoose.mongo.Db
    const seeded = Date.now()
    const { users, conversations } = await seed(store)
    console.log(`seeded in ${fmt((Date.now() - seeded) / 1000)} s`)
    const login = await fetch(`${parley.url}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ login: 'root', password: 'root password' }) })
    const { accessToken } = await login.json() as { accessToken: string }

    const range = (): { from: string, to: string } => {
      const from = START + Math.floor(Math.random() * (SPAN - 3 * DAY))
      return { from: new Date(from).toISOString(), to: new Date(from + 3 * DAY).toISOString() }
    }
    const live = { deletedAt: { $exists: false } }
    const between = (q: Record<string, string>) => ({ createdAt: { $gte: new Date(q.from), $lt: new Date(q.to) } })
    const cases: QueryCase[] = [
      { name: 'sender + 3-day range', query: () => ({ senderId: String(pick(users)), ...range() }), filter: q => ({ senderId: new Types.ObjectId(q.senderId), ...between(q), ...live }) },
      {
        name: 'conversation + q',
        query: () => ({ conversationId: String(pick(conversations).id), q: pick(WORDS) }),
        filter: q => ({ conversationId: new Types.ObjectId(q.conversationId), body: { $regex: q.q, $options: 'i' }, ...live })
      },
      {
        name: 'participant + 3-day range',
        query: () => ({ participantId: String(pick(users)), ...range() }),
        filter: q => ({ conversationId: { $in: conversations.filter(c => c.members.some(m => String(m) === q.participantId)).map(c => c.id) }, ...between(q), ...live })
      }
    ]
    const rows: string[] = []
    for (const kase of cases) {
      const { api, driver, rows: returned } = await timeQueries(parley.url, accessToken, store, kase)
      rows.push(`| ${kase.name} | ${fmt(percentile(api, 0.5), 2)} | ${fmt(percentile(api, 0.99), 2)} | ${fmt(percentile(driver, 0.5), 2)} | ${fmt(percentile(driver, 0.99), 2)} | ${fmt(returned / QUERIES)} |`)
    }
    console.log(`\nfiltered queries (${QUERIES} each, limit 50), ms:\n| query | Parley p50 | Parley p99 | driver p50 | driver p99 | rows/query |\n|---|---|---|---|---|---|\n${rows.join('\n')}`)

    const baselineStarted = performance.now()
    let baseline = 0
    for await (const _doc of store.collection('messages').find({}).sort({ createdAt: 1, _id: 1 }).batchSize(1000)) baseline++
    const baselineSeconds = (performance.now() - baselineStarted) / 1000
    const exported = await timeExport(parley.url, accessToken, parley.child.pid as number)
    const rate = exported.messages / exported.seconds
    const baseRate = baseline / baselineSeconds
    console.log(`\nexport of every message:
| | messages | seconds | messages/s | MB | RSS before, MB | RSS peak, MB | growth, MB |
|---|---|---|---|---|---|---|---|
| Parley GET /api/admin/messages/export | ${fmt(exported.messages, 0)} | ${fmt(exported.seconds, 2)} | ${fmt(rate, 0)} | ${fmt(exported.bytes / 2 ** 20)} | ${fmt(exported.rssBefore)} | ${fmt(exported.rssPeak)} | ${fmt(exported.rssPeak - exported.rssBefore)} |
| driver cursor (baseline) | ${fmt(baseline, 0)} | ${fmt(baselineSeconds, 2)} | ${fmt(baseRate, 0)} | | | | |
ratio Parley/driver: ${fmt(rate / baseRate, 2)}x
V8 heap used before / peak: ${fmt(exported.heapBefore)} / ${fmt(exported.heapPeak)} MB; external memory peak ${fmt(exported.externalPeak)} MB`)
    if (exported.messages !== MESSAGES) console.log(`WARNING: exported ${exported.messages} of ${MESSAGES}`)
  } finally {
    await connection.close()
    parley?.child.kill('SIGTERM')
    db.child.kill('SIGTERM')
    await new Promise(resolve => setTimeout(resolve, 2000))
    await rm(dataDir, { recursive: true, force: true })
  }
}

main().catch(error => { console.error(error); process.exit(1) })
