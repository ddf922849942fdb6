import t from 'tap'
import { buildTestApp } from '../helpers/build-app.js'

t.test('OpenAPI is served at /docs/json and the UI at /docs', async t => {
  const app = await buildTestApp(t)
  const spec = await app.inject({ method: 'GET', url: '/docs/json' })
  t.equal(spec.statusCode, 200)
  const body = spec.json()
  t.equal(body.openapi, '3.1.0')
  t.ok(body.paths['/health'], 'documents /health')
  t.ok(body.paths['/ready'], 'documents /ready')
  const ui = await app.inject({ method: 'GET', url: '/docs' })
  t.ok([200, 302].includes(ui.statusCode), 'the UI answers')
})

t.test('Prometheus metrics at /metrics count requests', async t => {
  const app = await buildTestApp(t)
  await app.inject({ method: 'GET', url: '/health' })
  const res = await app.inject({ method: 'GET', url: '/metrics' })
  t.equal(res.statusCode, 200)
  t.match(res.headers['content-type'], /text\/plain/)
  t.match(res.body, /process_cpu_user_seconds_total/)
  t.match(res.body, /http_request_duration_seconds_count\{method="GET",route="\/health",status_code="200"\} 1/)
})

t.test('with METRICS_TOKEN, /metrics needs it as a Bearer token', async t => {
  const token = 'scrape-me-0123456789abcdef'
  const app = await buildTestApp(t, { METRICS_TOKEN: token })
  for (const authorization of [undefined, 'Bearer wrong-token-0123456789ab', `Bearer ${token}x`, `Basic ${token}`]) {
    const res = await app.inject({ method: 'GET', url: '/metrics', headers: authorization === undefined ? {} : { authorization } })
    t.equal(res.statusCode, 401, String(authorization))
    t.notMatch(res.body, /process_cpu/, 'no metrics leak')
  }
  const ok = await app.inject({ method: 'GET', url: '/metrics', headers: { authorization: `Bearer ${token}` } })
  t.equal(ok.statusCode, 200)
  t.match(ok.body, /process_cpu_user_seconds_total/)
})

t.test('security headers are set', async t => {
  const app = await buildTestApp(t)
  const res = await app.inject({ method: 'GET', url: '/health' })
  t.equal(res.headers['x-content-type-options'], 'nosniff')
  t.equal(res.headers['x-powered-by'], undefined)
})

t.test('CORS answers configured origins only', async t => {
  const app = await buildTestApp(t, { CORS_ORIGINS: 'https://chat.example' })
  const allowed = await app.inject({ method: 'GET', url: '/health', headers: { origin: 'https://chat.example' } })
  t.equal(allowed.headers['access-control-allow-origin'], 'https://chat.example')
  const other = await app.inject({ method: 'GET', url: '/health', headers: { origin: 'https://evil.example' } })
  t.equal(other.headers['access-control-allow-origin'], undefined)
})
