/**
 * Child of bench:store: times a cold restart of the embedded engine on an existing data directory, as a
 * fresh process (a real restart has no heap left over from before), then checks every document is back.
 * Prints one JSON line: { restartMs, count, latestSeq, rss }.
 *
 *   node --import tsx scripts/bench-store-restart.ts <dataDir> <dbName> <conversationId>
 */
import mongoose from 'mongoose'
import { startEmbeddedMongo } from '../src/storage/embedded/index.js'

const [dataDir, dbName, conversationId] = process.argv.slice(2)
const silent = { debug () {}, info () {}, warn (o: unknown) { console.error(o) }, error (o: unknown) { console.error(o) } }

const start = process.hrtime.bigint()
const engine = await startEmbeddedMongo({ port: 0, dataDir, logger: silent })
const restartMs = Number(process.hrtime.bigint() - start) / 1e6
const client = new mongoose.mongo.MongoClient(engine.url)
try {
  const messages = client.db(dbName).collection('messages')
  const count = await messages.estimatedDocumentCount()
  const scanned = await messages.countDocuments()
  if (scanned !== count) throw new Error(`after restart countDocuments is ${scanned}, count is ${count}`)
  const latest = await messages.find({ conversationId: new mongoose.Types.ObjectId(conversationId) }).sort({ seq: -1 }).limit(1).toArray()
  process.stdout.write(JSON.stringify({ restartMs, count, latestSeq: latest[0]?.seq ?? null, rss: process.memoryUsage().rss }) + '\n')
} finally {
  await client.close()
  await engine.close()
}
