/**
 * GET /api/admin/messages/export: NDJSON with the same filters as the list, every match once in order (across the
 * export's internal pages), a file name carrying the range, the audit entry written before the stream and completed
 * with its count, and a client that stops reading leaves an `aborted` entry instead of a server that buffers.
 */
import t from 'tap'
import http from 'node:http'
import { adminWorld, allPages, send } from './admin-kit.js'
import { api } from '../../helpers/rest.js'
import { listen } from '../../helpers/build-app.js'
import { EXPORT_PAGE } from '../../../src/modules/admin/admin-messages.service.js'

t.test('the export holds exactly what the list pages hold, one JSON message a line', async t => {
  const { app, alice, bob, directId, groupId, get } = await adminWorld(t)
  // Past one internal page of the export, with messages in two conversations.
  const docs = Array.from({ length: EXPORT_PAGE + 37 }, (_, i) => ({
    conversationId: i % 3 === 0 ? groupId : directId, seq: i + 1, senderId: i % 2 === 0 ? alice.id : bob.id, body: `bulk ${i}`,
    attachments: [], createdAt: new Date(Date.UTC(2026, 5, 1) + Math.floor(i / 4) * 1000)
  }))
  await app.models.Message.insertMany(docs.map(doc => ({ ...doc, conversationId: doc.conversationId, senderId: doc.senderId })))
  await send(app, alice, directId, 'a live one')

  for (const query of [{}, { senderId: alice.id }, { conversationId: groupId, from: '2026-06-01T00:01:00Z', to: '2026-06-01T00:03:00Z' }, { q: 'bulk 1', order: 'desc' }] as Array<Record<string, string>>) {
    const exported = await get('/messages/export', query)
    t.equal(exported.statusCode, 200, JSON.stringify(query))
    t.match(exported.headers['content-type'], /^application\/x-ndjson/)
    const lines = exported.body.split('\n')
    t.equal(lines.pop(), '', 'ends with a newline')
    const ids = lines.map(line => JSON.parse(line).id as string)
    const listed = await allPages<{ id: string }>(async cursor => (await get('/messages', { ...query, limit: 200, ...cursor !== undefined ? { cursor } : {} })).json())
    t.same(ids, listed.map(item => item.id), `${JSON.stringify(query)}: ${ids.length} lines, as the list`)
    t.ok(ids.length > 0)
    t.match(JSON.parse(lines[0]), { conversation: { id: /^[0-9a-f]{24}$/ }, sender: { username: /./ } }, 'lines are AdminMessages')
  }
  const named = await get('/messages/export', { from: '2026-06-01T00:00:00Z', to: '2026-07-01T00:00:00.000Z' })
  t.equal(named.headers['content-disposition'], 'attachment; filename="parley-messages_2026-06-01T00-00-00-000Z_2026-07-01T00-00-00-000Z.ndjson"')
  const open = await get('/messages/export', {})
  t.match(open.headers['content-disposition'], /^attachment; filename="parley-messages_start_\d{4}-\d\d-\d\dT[\d-]+Z\.ndjson"$/)

  const backwards = await get('/messages/export', { from: '2026-07-01T00:00:00Z', to: '2026-06-01T00:00:00Z' })
  t.equal(backwards.statusCode, 400, 'a bad range is a 400 before the stream starts, not a 200 with nothing')
  t.match(backwards.headers['content-type'], /application\/json/)
  const entries = await app.models.AuditEntry.find({ action: 'messages.export' }).sort({ at: 1 }).lean()
  t.equal(entries.length, 6, 'one entry per export')
  t.match(entries[0], { status: 'completed', resultCount: EXPORT_PAGE + 38, route: 'GET /api/admin/messages/export' }, 'completed with its count')
  t.same(entries[1].params, { senderId: alice.id }, 'the filters as given')
})

t.test('a client that stops reading: the server stops at the socket buffer, and the entry ends aborted', async t => {
  const { app, alice, root, directId } = await adminWorld(t)
  // About 16 MB: more than the socket buffers on both sides hold.
  const bulk = Array.from({ length: 8 * EXPORT_PAGE }, (_, i) => ({
    conversationId: directId, seq: i + 1, senderId: alice.id, body: `padding ${'x'.repeat(2000)} ${i}`, attachments: [], createdAt: new Date(Date.UTC(2026, 0, 1) + i)
  }))
  await app.models.Message.insertMany(bulk)
  const url = await listen(app)
  const received = await new Promise<number>((resolve, reject) => {
    const request = http.get(`${url}/api/admin/messages/export`, { headers: { authorization: `Bearer ${root.accessToken}` } }, response => {
      let bytes = 0
      response.once('data', (chunk: Buffer) => {
        bytes += chunk.length
        // Stop reading: pause, then hang up after a while.
        response.pause()
        setTimeout(() => { request.destroy(); resolve(bytes) }, 500)
      })
    })
    request.on('error', error => { if ((error as NodeJS.ErrnoException).code !== 'ECONNRESET') reject(error) })
  })
  t.ok(received > 0, 'the stream started')
  let entry = null
  for (let i = 0; i < 50; i++) {
    entry = await app.models.AuditEntry.findOne({ action: 'messages.export' }).lean()
    if (entry?.status !== 'started') break
    await new Promise(resolve => setTimeout(resolve, 100))
  }
  t.equal(entry?.status, 'aborted', 'the entry says the export did not finish')
  t.ok((entry?.resultCount ?? 0) < bulk.length, `it counts what was read from the store before the client left (${entry?.resultCount})`)
})

t.test('a time Date cannot hold (a leap second) is a 400 everywhere, and no export entry is left started; HEAD is not an export', async t => {
  const { app, root, get } = await adminWorld(t)
  for (const [path, query] of [['/messages', { from: '2024-06-30T23:59:60Z' }], ['/messages/export', { to: '2024-06-30T23:59:60.5Z' }], ['/audit', { from: '2024-06-30T23:59:60Z' }]] as const) {
    const res = await get(path, query)
    t.equal(res.statusCode, 400, `${path} ${JSON.stringify(query)}`)
    t.equal(res.json().code, 'VALIDATION_ERROR')
  }
  t.equal(await app.models.AuditEntry.countDocuments({ action: 'messages.export' }), 0, 'no export entry for an export that never started')
  const head = await app.inject({ method: 'HEAD', url: '/api/admin/messages/export', headers: { authorization: `Bearer ${root.accessToken}` } })
  t.equal(head.statusCode, 404, 'HEAD would run the export into a drain: not served')
  t.equal(await app.models.AuditEntry.countDocuments({ action: 'messages.export' }), 0)
})

t.test('an export stops at the next page once its admin is demoted', async t => {
  const { app, alice, root, directId } = await adminWorld(t)
  const other = await api(app, root)('PATCH', `/api/admin/users/${alice.id}`, { role: 'admin' })
  t.equal(other.statusCode, 200)
  await app.models.Message.insertMany(Array.from({ length: 3 * EXPORT_PAGE }, (_, i) => ({
    conversationId: directId, seq: i + 1, senderId: alice.id, body: `m ${'y'.repeat(3000)} ${i}`, attachments: [], createdAt: new Date(Date.UTC(2026, 0, 1) + i)
  })))
  const url = await listen(app)
  const seen = await new Promise<number>((resolve, reject) => {
    const request = http.get(`${url}/api/admin/messages/export`, { headers: { authorization: `Bearer ${root.accessToken}` } }, response => {
      let bytes = 0
      let demoted = false
      response.on('data', (chunk: Buffer) => {
        bytes += chunk.length
        if (!demoted) {
          demoted = true
          // Alice (now an admin too) demotes root while the export runs.
          response.pause()
          void api(app, alice)('PATCH', `/api/admin/users/${root.id}`, { role: 'user' }).then(() => { response.resume() })
        }
      })
      response.on('end', () => { resolve(bytes) })
      response.on('error', () => { resolve(bytes) })
    })
    request.on('error', error => { if ((error as NodeJS.ErrnoException).code === 'ECONNRESET') resolve(-1); else reject(error) })
  })
  t.ok(seen !== 0, 'the export had started')
  const entry = await app.models.AuditEntry.findOne({ action: 'messages.export' }).lean()
  t.equal(entry?.status, 'aborted', 'it did not complete')
  t.ok((entry?.resultCount ?? 0) < 3 * EXPORT_PAGE, `fewer than all messages went out (${entry?.resultCount})`)
})
