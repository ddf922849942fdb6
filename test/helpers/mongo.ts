/**
 * One MongoDB for one test: the embedded engine in memory (default), or — when MONGODB_URL is set — a real
 * server with a fresh database per call, so the same tests hold the engine to MongoDB's behaviour.
 * Everything opened here is closed in the test's teardown so tap can exit.
 */
import { randomBytes } from 'node:crypto'
import mongoose from 'mongoose'
import { startEmbeddedMongo } from '../../src/storage/embedded/index.js'

type MongoClient = mongoose.mongo.MongoClient
type MongoClientOptions = mongoose.mongo.MongoClientOptions
type Db = mongoose.mongo.Db

/** The part of a tap Test this helper needs. */
export interface TeardownHost {
  teardown (fn: () => unknown): void
}

export interface TestMongoOptions {
  /**
   * Data directory for the embedded engine (durable mode). Default: none, in memory.
   * Ignored when MONGODB_URL is set.
   */
  dataDir?: string
}

export interface TestMongo {
  /** Server URL without a database name. */
  url: string
  /** Database the connection uses; unique per call against a real server. */
  dbName: string
  /** A mongoose connection of its own (mongoose.createConnection), not the global one. */
  connection: mongoose.Connection
  /** The driver client under `connection`. */
  client: MongoClient
  /** The driver Db under `connection` (dbName). */
  db: Db
  /** True when running against the embedded engine, false against MONGODB_URL. */
  embedded: boolean
  /** Opens another driver client on the same server (closed in teardown), e.g. with monitorCommands. */
  openClient (options?: MongoClientOptions): Promise<MongoClient>
  /** Closes everything now (idempotent; teardown calls it too). */
  close (): Promise<void>
}

let counter = 0

const silentLogger = {
  debug () {},
  info () {},
  warn () {},
  error () {}
}

export async function startTestMongo (t: TeardownHost, opts: TestMongoOptions = {}): Promise<TestMongo> {
  const externalUrl = process.env.MONGODB_URL
  let serverClose: (() => Promise<void>) | undefined
  let url: string
  let dbName: string
  if (externalUrl !== undefined && externalUrl !== '') {
    url = externalUrl
    // At most 64 bytes, unique across parallel tap workers and calls.
    dbName = `parley_conf_${process.pid}_${++counter}_${randomBytes(4).toString('hex')}`
  } else {
    const server = await startEmbeddedMongo({
      port: 0,
      dataDir: opts.dataDir ?? null,
      logger: silentLogger
    })
    url = server.url
    dbName = 'parley_test'
    serverClose = () => server.close()
  }

  const extraClients: MongoClient[] = []
  let closed: Promise<void> | undefined
  const connection = mongoose.createConnection(url, { dbName, serverSelectionTimeoutMS: 10_000 })

  const close = (): Promise<void> => {
    closed ??= (async () => {
      for (const c of extraClients) await c.close().catch(() => {})
      if (serverClose === undefined) {
        // Real server: leave nothing behind.
        await connection.db?.dropDatabase().catch(() => {})
      }
      await connection.close().catch(() => {})
      if (serverClose !== undefined) await serverClose()
    })()
    return closed
  }
  t.teardown(close)

  try {
    await connection.asPromise()
  } catch (err) {
    await close()
    throw err
  }
  const db = connection.db
  if (db === undefined) throw new Error('mongoose connection has no db after connecting')

  return {
    url,
    dbName,
    connection,
    client: connection.getClient(),
    db,
    embedded: serverClose !== undefined,
    async openClient (options?: MongoClientOptions) {
      const client = new mongoose.mongo.MongoClient(url, { serverSelectionTimeoutMS: 10_000, ...options })
      extraClients.push(client)
      await client.connect()
      return client
    },
    close
  }
}
