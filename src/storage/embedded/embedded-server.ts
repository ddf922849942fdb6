/**
 * The TCP side of the embedded engine: accepts connections, splits each byte stream into frames, runs
 * the commands one at a time per connection (so replies keep request order and a write is acked only
 * after the store, and through it the journal, has resolved) and writes the replies.
 *
 * A bad frame (impossible length, unknown opcode, unparsable BSON, OP_COMPRESSED that was never
 * negotiated) closes that connection only; other connections keep being served. The same holds for anything
 * that throws while a frame is read, parsed, run or answered: every socket callback and the per-connection
 * command loop catch, log and close their own connection, so no frame can end the process.
 *
 * Limits: at most `maxConnections` sockets (more are closed at once); per connection, a frame in progress
 * is at most `maxMessageBytes` (a header announcing more closes the connection) and reading pauses while
 * the frames queued behind the running command hold `maxMessageBytes` or more, so a client that sends
 * without reading replies makes the engine buffer about two messages, not whatever it sends.
 */
import net from 'node:net'
import { BSON, type Document } from 'bson'
import { serializeExact } from './bson-serialize.js'
import { CursorRegistry } from './cursors.js'
import { errorReply, runCommand } from './commands/command-router.js'
import type { CommandContext, ServerStats } from './commands/command-context.js'
import { MongoCommandError, type EmbeddedStore, type EngineLogger } from './store.types.js'
import {
  FrameDecoder,
  ProtocolError,
  encodeOpMsg,
  encodeOpReply,
  parseRequest,
  type WireRequest
} from './wire-protocol.js'

export interface EmbeddedServerOptions {
  store: EmbeddedStore
  logger: EngineLogger
  /** Largest accepted wire message. */
  maxMessageBytes: number
  /** Concurrent connections; one more is closed on accept. */
  maxConnections: number
  /** Idle cursors are closed after this. */
  cursorTimeoutMs: number
}

/** Commands the legacy OP_QUERY path still answers (MongoDB 6+ answers only the handshake there). */
const OP_QUERY_COMMANDS = new Set(['hello', 'isMaster', 'ismaster'])
/** Pause reading when this many requests are queued on one connection (client pipelining hard). */
const QUEUE_HIGH_WATER = 256
/** At most one warning a second about refused connections, however many arrive. */
const REFUSAL_LOG_INTERVAL_MS = 1000

export class EmbeddedServer {
  readonly cursors: CursorRegistry
  private readonly server: net.Server
  private readonly connections = new Set<Connection>()
  private totalConnections = 0
  private refusedConnections = 0
  private lastRefusalLog = 0
  private nextRequestId = 0
  private readonly startedAt = Date.now()

  constructor (readonly options: EmbeddedServerOptions) {
    this.cursors = new CursorRegistry({ cursorTimeoutMs: options.cursorTimeoutMs })
    this.server = net.createServer(socket => this.accept(socket))
  }

  /** Starts listening; resolves with the bound address (port 0 picks a free port). */
  async listen (port: number, host: string): Promise<net.AddressInfo> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject)
      this.server.listen(port, host, () => {
        this.server.off('error', reject)
        resolve()
      })
    })
    this.server.on('error', err => this.options.logger.error({ err }, 'embedded mongo: server error'))
    return this.server.address() as net.AddressInfo
  }

  /** Stops accepting, drops every connection, waits for commands already running, closes cursors. */
  async close (): Promise<void> {
    const closed = new Promise<void>(resolve => this.server.close(() => resolve()))
    const running = [...this.connections].map(async c => await c.destroy())
    await Promise.all(running)
    await closed
    this.cursors.closeAll()
  }

  stats (): ServerStats {
    return {
      maxMessageBytes: this.options.maxMessageBytes,
      maxConnections: this.options.maxConnections,
      currentConnections: this.connections.size,
      totalConnections: this.totalConnections,
      openCursors: this.cursors.size
    }
  }

  requestId (): number {
    this.nextRequestId = (this.nextRequestId + 1) & 0x7fffffff
    return this.nextRequestId
  }

  private accept (socket: net.Socket): void {
    if (this.connections.size >= this.options.maxConnections) {
      // Closed before any byte is read: a flood of sockets costs a file descriptor for an instant, no buffers.
      socket.on('error', () => {})
      socket.destroy()
      this.refusedConnections++
      const now = Date.now()
      if (now - this.lastRefusalLog >= REFUSAL_LOG_INTERVAL_MS) {
        this.lastRefusalLog = now
        this.options.logger.warn({ maxConnections: this.options.maxConnections, refused: this.refusedConnections },
          'embedded mongo: connection limit reached, closing new connections')
      }
      return
    }
    try {
      const conn = new Connection(this, socket, ++this.totalConnections, this.startedAt)
      this.connections.add(conn)
      socket.once('close', () => this.connections.delete(conn))
    } catch (err) {
      // e.g. a socket reset before it could be set up: drop it, keep the listener
      this.options.logger.warn({ err }, 'embedded mongo: could not set up a connection')
      socket.destroy()
    }
  }
}

/** MongoDB's limit for a reply: the 16 MiB document limit plus room for the reply's own fields. */
const MAX_REPLY_BYTES = 16 * 1024 * 1024 + 16 * 1024

class Connection {
  private readonly decoder: FrameDecoder
  private readonly queue: Array<Buffer | ProtocolError> = []
  /** Bytes of the complete frames in `queue`. */
  private queuedBytes = 0
  private loop: Promise<void> | undefined
  private closed = false
  private readonly base: Omit<CommandContext, 'db'>

  constructor (
    private readonly server: EmbeddedServer,
    private readonly socket: net.Socket,
    readonly id: number,
    startedAt: number
  ) {
    const { store, logger, maxMessageBytes } = server.options
    this.decoder = new FrameDecoder(maxMessageBytes)
    this.base = {
      store,
      logger,
      cursors: server.cursors,
      connectionId: id,
      remote: `${socket.remoteAddress ?? 'unknown'}:${socket.remotePort ?? 0}`,
      startedAt,
      stats: () => server.stats()
    }
    socket.setNoDelay(true)
    socket.on('data', chunk => {
      try {
        this.onData(chunk)
      } catch (err) {
        this.fail(err, 'embedded mongo: closing connection after an error reading a message')
      }
    })
    socket.on('error', err => logger.debug({ err, connectionId: id }, 'embedded mongo: socket error'))
    socket.once('close', () => { this.closed = true; this.clearQueue() })
    logger.debug({ connectionId: id, remote: this.base.remote }, 'embedded mongo: connection accepted')
  }

  /** Closes the socket and resolves once the command in flight (if any) has finished. */
  async destroy (): Promise<void> {
    this.closed = true
    this.clearQueue()
    this.socket.destroy()
    await this.loop
  }

  private onData (chunk: Buffer): void {
    if (this.closed) return
    const frames = this.decoder.push(chunk)
    for (const frame of frames) {
      this.queue.push(frame)
      this.queuedBytes += frame.length
    }
    if (this.decoder.error !== undefined) {
      // Serve what came before the bad bytes, then close; read nothing more meanwhile.
      this.queue.push(this.decoder.error)
      this.socket.pause()
    } else if (this.queue.length >= QUEUE_HIGH_WATER || this.queuedBytes >= this.server.options.maxMessageBytes) {
      this.socket.pause()
    }
    this.loop ??= this.drain()
      .catch(err => this.fail(err, 'embedded mongo: closing connection after an internal error'))
      .finally(() => { this.loop = undefined })
  }

  /** Runs queued frames one at a time. Whatever a frame throws closes this connection only. */
  private async drain (): Promise<void> {
    while (!this.closed) {
      const item = this.queue.shift()
      if (item === undefined) return
      if (item instanceof ProtocolError) return this.fail(item)
      this.queuedBytes -= item.length
      try {
        await this.handleFrame(item)
      } catch (err) {
        return this.fail(err, 'embedded mongo: closing connection after an error handling a message')
      }
      if (this.socket.isPaused() && this.belowLowWater() && this.decoder.error === undefined && !this.closed) {
        this.socket.resume()
      }
    }
  }

  private belowLowWater (): boolean {
    return this.queue.length < QUEUE_HIGH_WATER / 2 && this.queuedBytes < this.server.options.maxMessageBytes / 2
  }

  private clearQueue (): void {
    this.queue.length = 0
    this.queuedBytes = 0
  }

  private fail (err: unknown, message = 'embedded mongo: closing connection after a bad message'): void {
    this.server.options.logger.warn({ err, connectionId: this.id, remote: this.base.remote }, message)
    this.closed = true
    this.clearQueue()
    this.socket.destroy()
  }

  private async handleFrame (frame: Buffer): Promise<void> {
    let request: WireRequest
    try {
      request = parseRequest(frame)
    } catch (err) {
      return this.fail(err)
    }
    const responseTo = request.header.requestId
    if (request.kind === 'query') {
      const reply = await this.runLegacyQuery(request.fullCollectionName, request.query)
      return await this.send(encodeOpReply(this.server.requestId(), responseTo, this.serialize(reply)))
    }
    const db = request.command.$db
    const reply = typeof db === 'string' && db !== ''
      ? await runCommand(request.command, { ...this.base, db })
      : errorReply(new MongoCommandError(40571, 'Location40571', 'OP_MSG requests require a $db argument'))
    // moreToCome: the client expects no reply (w:0 writes); the command has still run to completion.
    if (request.moreToCome) return
    await this.send(encodeOpMsg(this.server.requestId(), responseTo, this.serialize(reply)))
  }

  private async runLegacyQuery (ns: string, raw: Document): Promise<Document> {
    const query = (raw.$query !== undefined ? raw.$query : raw) as unknown
    if (query === null || typeof query !== 'object' || Array.isArray(query) || '_bsontype' in query) {
      return errorReply(new MongoCommandError(2, 'BadValue', 'OP_QUERY $query must be a document'))
    }
    const name = Object.keys(query)[0] ?? ''
    if (!ns.endsWith('.$cmd') || !OP_QUERY_COMMANDS.has(name)) {
      return errorReply(new MongoCommandError(352, 'UnsupportedOpQueryCommand',
        `Unsupported OP_QUERY command: ${name}. The client driver may require an upgrade.`))
    }
    return await runCommand(query as Document, { ...this.base, db: ns.slice(0, -'.$cmd'.length) })
  }

  /** BSON for a reply (at most MongoDB's 16 MiB + 16 KiB internal limit); a reply too large to serialise becomes an error reply instead. */
  private serialize (reply: Document): Buffer {
    let bytes: Uint8Array
    try {
      bytes = serializeExact(reply, MAX_REPLY_BYTES)
    } catch (err) {
      this.server.options.logger.error({ err, connectionId: this.id }, 'embedded mongo: reply could not be serialised')
      bytes = BSON.serialize(errorReply(new MongoCommandError(10334, 'BSONObjectTooLarge',
        `reply could not be serialised: ${err instanceof Error ? err.message : String(err)}`)))
    }
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  }

  private async send (message: Buffer): Promise<void> {
    if (this.closed || this.socket.destroyed) return
    if (this.socket.write(message)) return
    // Respect backpressure: don't run the next command until the client has read this reply.
    await new Promise<void>(resolve => {
      const done = (): void => {
        this.socket.off('drain', done)
        this.socket.off('close', done)
        resolve()
      }
      this.socket.on('drain', done)
      this.socket.on('close', done)
    })
  }
}
