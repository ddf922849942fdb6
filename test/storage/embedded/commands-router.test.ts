// The command router on its own, over a real MemoryStore: error mapping and logging without a socket.
import t from 'tap'
import { Int32, Long } from 'bson'
import { CursorRegistry } from '../../../src/storage/embedded/cursors.js'
import { MemoryStore } from '../../../src/storage/embedded/store.js'
import { commandNames, runCommand } from '../../../src/storage/embedded/commands/command-router.js'
import type { CommandContext } from '../../../src/storage/embedded/commands/command-context.js'

function context (): { ctx: CommandContext; errors: unknown[] } {
  const errors: unknown[] = []
  const cursors = new CursorRegistry({ cursorTimeoutMs: 60_000 })
  t.teardown(() => cursors.closeAll())
  const ctx: CommandContext = {
    store: new MemoryStore({}),
    cursors,
    logger: { debug () {}, info () {}, warn () {}, error (o: unknown) { errors.push(o) } },
    db: 'r',
    connectionId: 1,
    remote: '127.0.0.1:1',
    startedAt: Date.now(),
    stats: () => ({ maxMessageBytes: 48_000_000, maxConnections: 1000, currentConnections: 1, totalConnections: 1, openCursors: cursors.size })
  }
  return { ctx, errors }
}

t.test('the required command set is registered', async t => {
  const names = new Set(commandNames())
  for (const name of ['hello', 'isMaster', 'ismaster', 'ping', 'buildInfo', 'getParameter', 'getCmdLineOpts',
    'endSessions', 'killSessions', 'serverStatus', 'listDatabases', 'dropDatabase', 'create', 'drop',
    'listCollections', 'createIndexes', 'listIndexes', 'dropIndexes', 'insert', 'find', 'getMore', 'killCursors',
    'update', 'delete', 'findAndModify', 'aggregate', 'count', 'distinct', 'connectionStatus', 'whatsmyuri']) {
    t.ok(names.has(name), name)
  }
})

t.test('unknown and empty commands answer CommandNotFound', async t => {
  const { ctx } = context()
  t.same(await runCommand({ nope: 1 }, ctx), { ok: 0, errmsg: "no such command: 'nope'", code: 59, codeName: 'CommandNotFound' })
  t.match(await runCommand({}, ctx), { ok: 0, code: 59 })
})

t.test('a MongoCommandError from the store becomes ok:0 with its code and codeName', async t => {
  const { ctx, errors } = context()
  t.same(await runCommand({ create: 'c', $db: 'r' }, ctx), { ok: 1 })
  t.match(await runCommand({ create: 'c', $db: 'r' }, ctx), { ok: 0, code: 48, codeName: 'NamespaceExists', errmsg: String })
  t.equal(errors.length, 0, 'expected failures are not logged as errors')
})

t.test('any other exception becomes InternalError, is logged, and the router keeps working', async t => {
  const { ctx, errors } = context()
  const broken: CommandContext = { ...ctx, stats: () => { throw new Error('boom') } }
  const reply = await runCommand({ hello: 1 }, broken)
  t.match(reply, { ok: 0, code: 1, codeName: 'InternalError', errmsg: /boom/ })
  t.equal(errors.length, 1)
  t.match(errors[0], { command: 'hello', err: { message: 'boom' } })
  t.match(await runCommand({ hello: 1 }, ctx), { ok: 1, isWritablePrimary: true })
})

t.test('wrapped numbers are read as numbers', async t => {
  const { ctx } = context()
  await runCommand({ insert: 'n', documents: [{ _id: new Int32(1) }, { _id: new Int32(2) }, { _id: new Int32(3) }] }, ctx)
  const first = await runCommand({ find: 'n', batchSize: new Int32(1), skip: new Long(1) }, ctx)
  t.equal(first.cursor.firstBatch.length, 1)
  t.equal(first.cursor.firstBatch[0]._id.valueOf(), 2)
  const more = await runCommand({ getMore: first.cursor.id, collection: 'n', batchSize: new Int32(5) }, ctx)
  t.equal(more.cursor.nextBatch.length, 1)
  t.equal(String(more.cursor.id), '0')
  t.match(await runCommand({ getMore: 5, collection: 'n' }, ctx), { ok: 0, code: 14 }, 'cursor id must be a long')
})
