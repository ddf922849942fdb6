/**
 * bench:store — load a message-shaped collection through mongoose, time Parley's two hot reads
 * (latest 50 of a conversation, the page before seq N), then restart the engine on the same data dir
 * to time journal replay.
 *
 *   npx tsx scripts/bench-store.ts [--messages 1000000] [--conversations 10000] [--batch 5000] [--queries 1000]
 *
 * Uses the embedded engine with a temporary data dir (durable, like production), or the server in
 * MONGODB_URL if set (then the restart step is skipped and the database is dropped at the end).
 */
import { mkdtemp, rm, readdir, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs, promisify } from 'node:util'
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import mongoose from 'mongoose'
import { startEmbeddedMongo } from '../src/storage/embedded/index.js'

const { values: args } = parseArgs({
  options: {
    messages: { type: 'string', default: '1000000' },
    conversations: { type: 'string', default: '10000' },
    batch: { type: 'string', default: '5000' },
    queries: { type: 'string', default: '1000' }
  }
})
const MESSAGES = Number(args.messages)
const CONVERSATIONS = Number(args.conversations)
const BATCH = Number(args.batch)
const QUERIES = Number(args.queries)
for (const [k, v] of Object.entries({ MESSAGES, CONVERSATIONS, BATCH, QUERIES })) {
  if (!Number.isInteger(v) || v <= 0) throw new Error(`--${k.toLowerCase()} must be a positive integer`)
}

const logger = {
  debug () {},
  info () {},
  warn (o: unknown, m?: string) { console.error('[engine warn]', m ?? '', o) },
  error (o: unknown, m?: string) { console.error('[engine error]', m ?? '', o) }
}

const schema = new mongoose.Schema({
  conversationId: { type: mongoose.Schema.Types.ObjectId, required: true },
  seq: { type: Number, required: true },
  senderId: { type: mongoose.Schema.Types.ObjectId, required: true },
  body: { type: String, required: true },
  createdAt: { type: Date, required: true }
}, { versionKey: false })
schema.index({ conversationId: 1, seq: 1 }, { unique: true })

const WARMUP_QUERIES = 100
const execFileAsync = promisify(execFile)
const ms = (start: bigint): number => Number(process.hrtime.bigint() - start) / 1e6
const mb = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(0)} MB`
const pct = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]
const rand = (n: number): number => Math.floor(Math.random() * n)

async function dirSize (dir: string): Promise<number> {
  let total = 0
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name)
    total += e.isDirectory() ? await dirSize(p) : (await stat(p)).size
  }
  return total
}

/** A cold restart is a new process: time it in one, so no heap from the load phase is left to collect. */
async function restartInChild (dataDir: string, dbName: string, conversationId: string): Promise<{ restartMs: number, count: number, latestSeq: number | null, rss: number }> {
  const script = fileURLToPath(new URL('./bench-store-restart.ts', import.meta.url))
  const { stdout } = await execFileAsync(process.execPath, ['--import', 'tsx', script, dataDir, dbName, conversationId], { maxBuffer: 1 << 20 })
  return JSON.parse(stdout.trim().split('\n').pop() as string)
}

interface Timing { p50: number, p99: number, max: number, mean: number }
async function timeQueries (run: () => Promise<number>, label: string): Promise<Timing> {
  // Warm-up (not sampled): JIT, the driver's connection pool, first-touch allocations.
  for (let i = 0; i < WARMUP_QUERIES; i++) await run()
  const samples: number[] = []
  let docs = 0
  for (let i = 0; i < QUERIES; i++) {
    const start = process.hrtime.bigint()
    docs += await run()
    samples.push(ms(start))
  }
  samples.sort((a, b) => a - b)
  const mean = samples.reduce((a, b) => a + b, 0) / samples.length
  console.log(`${label}: ${QUERIES} queries after ${WARMUP_QUERIES} warm-up, ${(docs / QUERIES).toFixed(1)} docs/query`)
  return { p50: pct(samples, 50), p99: pct(samples, 99), max: samples[samples.length - 1], mean }
}

async function main (): Promise<void> {
  const external = process.env.MONGODB_URL
  const dataDir = external === undefined || external === '' ? await mkdtemp(join(tmpdir(), 'parley-bench-')) : null
  const dbName = dataDir !== null ? 'parley_bench' : `parley_bench_${process.pid}`
  let server = dataDir !== null ? await startEmbeddedMongo({ port: 0, dataDir, logger }) : null
  const url = server?.url ?? (external as string)
  console.log(`target: ${dataDir !== null ? `embedded engine, dataDir ${dataDir}` : 'MONGODB_URL'}; ` +
    `${MESSAGES} messages over ${CONVERSATIONS} conversations, batches of ${BATCH}`)

  let conn = await mongoose.createConnection(url, { dbName }).asPromise()
  let Message = conn.model('BenchMessage', schema, 'messages')
  const cleanup = async (): Promise<void> => {
    await conn.close().catch(() => {})
    await server?.close().catch(() => {})
    if (dataDir !== null) await rm(dataDir, { recursive: true, force: true })
  }

  try {
    await Message.init()
    const convIds = Array.from({ length: CONVERSATIONS }, () => new mongoose.Types.ObjectId())
    const senders = Array.from({ length: 100 }, () => new mongoose.Types.ObjectId())
    const maxSeq = Math.ceil(MESSAGES / CONVERSATIONS)
    const body = 'lorem ipsum dolor sit amet, consectetur adipiscing elit — message body of a typical length'
    const t0 = Date.now() - MESSAGES

    // Message i goes to conversation i % C with seq floor(i / C) + 1, so every batch touches many conversations.
    const insertStart = process.hrtime.bigint()
    let nextReport = 0.05
    for (let from = 0; from < MESSAGES; from += BATCH) {
      const docs = []
      for (let i = from; i < Math.min(from + BATCH, MESSAGES); i++) {
        docs.push({
          conversationId: convIds[i % CONVERSATIONS],
          seq: Math.floor(i / CONVERSATIONS) + 1,
          senderId: senders[i % senders.length],
          body: `${body} #${i}`,
          createdAt: new Date(t0 + i)
        })
      }
      await Message.insertMany(docs, { lean: true })
      const done = Math.min(from + BATCH, MESSAGES) / MESSAGES
      if (done >= nextReport || done === 1) {
        const secs = ms(insertStart) / 1000
        console.log(`  inserted ${(done * 100).toFixed(0).padStart(3)}%  ${Math.round(done * MESSAGES / secs)} docs/s  rss ${mb(process.memoryUsage().rss)}`)
        while (nextReport <= done) nextReport += 0.05
      }
    }
    const insertSecs = ms(insertStart) / 1000
    const insertRate = MESSAGES / insertSecs
    const rssAfterInsert = process.memoryUsage().rss

    // Baseline, same run: a driver round trip that does no work, the floor under every query below.
    const admin = conn.getClient().db('admin')
    const ping = await timeQueries(async () => { await admin.command({ ping: 1 }); return 0 }, 'ping (baseline)')
    const latest = await timeQueries(async () => {
      const rows = await Message.find({ conversationId: convIds[rand(CONVERSATIONS)] }).sort({ seq: -1 }).limit(50).lean()
      return rows.length
    }, 'latest 50')
    const page = await timeQueries(async () => {
      const before = 51 + rand(Math.max(1, maxSeq - 50))
      const rows = await Message.find({ conversationId: convIds[rand(CONVERSATIONS)], seq: { $lt: before } })
        .sort({ seq: -1 }).limit(50).lean()
      return rows.length
    }, 'page before seq N')
    const rssAfterQueries = process.memoryUsage().rss

    let restartMs: number | null = null
    let countAfter: number | null = null
    let diskBytes: number | null = null
    let restartRss: number | null = null
    if (dataDir !== null && server !== null) {
      await conn.close()
      await server.close()
      server = null
      diskBytes = await dirSize(dataDir)
      const restart = await restartInChild(dataDir, dbName, String(convIds[0]))
      restartMs = restart.restartMs
      restartRss = restart.rss
      countAfter = restart.count
      if (restart.latestSeq !== maxSeq && MESSAGES % CONVERSATIONS === 0) throw new Error(`after restart, latest seq is ${restart.latestSeq}, expected ${maxSeq}`)
    } else {
      countAfter = await Message.estimatedDocumentCount()
      await conn.db?.dropDatabase()
    }
    if (countAfter !== MESSAGES) throw new Error(`count after restart is ${countAfter}, expected ${MESSAGES}`)

    const f = (n: number): string => n.toFixed(2)
    console.log('\n=== bench:store summary ===')
    const rows: Array<[string, string, string]> = [
      ['insert (insertMany)', `${Math.round(insertRate)} docs/s`, `${MESSAGES} docs in ${insertSecs.toFixed(1)} s`],
      ['ping (baseline)', `p50 ${f(ping.p50)} ms`, `p99 ${f(ping.p99)} ms, max ${f(ping.max)} ms`],
      ['latest 50', `p50 ${f(latest.p50)} ms`, `p99 ${f(latest.p99)} ms, max ${f(latest.max)} ms; p50 = ${(latest.p50 / ping.p50).toFixed(1)}x ping`],
      ['page before seq N', `p50 ${f(page.p50)} ms`, `p99 ${f(page.p99)} ms, max ${f(page.max)} ms; p50 = ${(page.p50 / ping.p50).toFixed(1)}x ping`],
      ['RSS after insert', mb(rssAfterInsert), 'engine + driver in one process'],
      ['RSS after queries', mb(rssAfterQueries), ''],
      ['data dir on disk', diskBytes === null ? 'n/a' : mb(diskBytes), ''],
      ['restart (replay)', restartMs === null ? 'n/a' : `${(restartMs / 1000).toFixed(2)} s`, `fresh process; count after restart: ${countAfter} (ok)`],
      ['RSS after restart', restartRss === null ? 'n/a' : mb(restartRss), 'the restarted engine alone']
    ]
    const w0 = Math.max(...rows.map((r) => r[0].length))
    const w1 = Math.max(...rows.map((r) => r[1].length))
    for (const [a, b, c] of rows) console.log(`  ${a.padEnd(w0)}  ${b.padEnd(w1)}  ${c}`)
  } finally {
    await cleanup()
  }
}

main().catch((err) => {
  console.error(err)
  process.exitCode = 1
})
