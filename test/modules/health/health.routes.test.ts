import t from 'tap'
import { buildTestApp } from '../../helpers/build-app.js'

t.test('GET /health answers while the process lives', async t => {
  const app = await buildTestApp(t)
  const res = await app.inject({ method: 'GET', url: '/health' })
  t.equal(res.statusCode, 200)
  t.same(res.json(), { status: 'ok' })
})

t.test('GET /ready reports each dependency', async t => {
  const app = await buildTestApp(t)
  const res = await app.inject({ method: 'GET', url: '/ready' })
  t.equal(res.statusCode, 200)
  t.same(res.json(), { status: 'ready', checks: { mongodb: 'ok' } })
})

t.test('GET /ready answers 503 when storage is unreachable', async t => {
  const app = await buildTestApp(t)
  // Take the storage away under the running app, as a crashed database would.
  await app.storage.connection.close()
  const res = await app.inject({ method: 'GET', url: '/ready' })
  t.equal(res.statusCode, 503)
  t.equal(res.json().status, 'unavailable')
  t.same(res.json().checks, { mongodb: 'unavailable' }, 'a state, not the error text')
})

t.test('readiness checks that hang are bounded by a timeout', async t => {
  const app = await buildTestApp(t)
  app.readiness.add('stuck', () => new Promise(() => {}))
  // Long enough for a real ping on a loaded machine; the stuck check never answers however long the bound.
  const report = await app.readiness.run(1000)
  t.equal(report.ready, false)
  t.equal(report.checks.stuck, 'unavailable')
  t.equal(report.checks.mongodb, 'ok')
})
