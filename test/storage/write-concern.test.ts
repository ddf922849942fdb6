/**
 * Writes Parley acks are on the journal of a majority: the connection's default write concern is
 * `{ w: MONGODB_WRITE_CONCERN (majority), journal: true }`, sent with every write command (the embedded engine
 * journals before it answers in any case).
 */
import t from 'tap'
import { buildTestApp } from '../helpers/build-app.js'

t.test('the default write concern is majority and journaled; MONGODB_WRITE_CONCERN changes w', async t => {
  const app = await buildTestApp(t)
  const concern = app.storage.connection.getClient().options.writeConcern
  t.match(concern, { w: 'majority', journal: true })
  const two = await buildTestApp(t, { MONGODB_WRITE_CONCERN: '2' })
  t.match(two.storage.connection.getClient().options.writeConcern, { w: 2, journal: true })
  // Writes still go through with it (the engine accepts the concern as MongoDB does).
  const res = await app.inject({ method: 'POST', url: '/api/auth/register', payload: { username: 'concerned', email: 'c@example.com', password: 'correct horse battery' } })
  t.equal(res.statusCode, 201)
})

t.test('a write concern that is not majority or a member count is refused at start', async t => {
  const { testConfig } = await import('../helpers/build-app.js')
  for (const value of ['0', 'all', '-1', 'majority;x']) {
    t.throws(() => testConfig({ MONGODB_WRITE_CONCERN: value }), /MONGODB_WRITE_CONCERN/, value)
  }
})
