// The web app's serving (src/plugins/web-app.plugin.ts): the built files at `/` with a strict CSP and
// revalidation, the API's JSON 404 everywhere else, and a page that says how to build when nothing is built.
import t from 'tap'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { buildWeb } from '../../scripts/build-web.js'
import { buildTestApp } from '../helpers/build-app.js'
import { WEB_APP_CSP } from '../../src/plugins/web-app.plugin.js'

t.test('a built app is served at /', async t => {
  const root = await mkdtemp(join(tmpdir(), 'parley-web-'))
  t.teardown(async () => { await rm(root, { recursive: true, force: true }) })
  await buildWeb(root)
  const app = await buildTestApp(t, {}, { build: { webApp: { root } } })

  const page = await app.inject({ method: 'GET', url: '/' })
  t.equal(page.statusCode, 200)
  t.match(page.headers['content-type'], /^text\/html/)
  t.match(page.body, /<script type="module" src="app.js"><\/script>/)
  t.equal(page.headers['content-security-policy'], WEB_APP_CSP)
  t.equal(page.headers['cache-control'], 'no-cache')
  t.ok(page.headers.etag, 'an ETag to revalidate with')
  const again = await app.inject({ method: 'GET', url: '/', headers: { 'if-none-match': String(page.headers.etag) } })
  t.equal(again.statusCode, 304, 'an unchanged page costs a 304')

  const script = await app.inject({ method: 'GET', url: '/app.js' })
  t.equal(script.statusCode, 200)
  t.match(script.headers['content-type'], /javascript/)
  t.ok(script.body.length > 10_000, 'the bundle (SDK and socket.io-client inside)')
  t.equal((await app.inject({ method: 'GET', url: '/styles.css' })).statusCode, 200)

  for (const url of ['/nope.js', '/api/nope', '/../package.json', '/%2e%2e/package.json']) {
    const res = await app.inject({ method: 'GET', url })
    t.equal(res.statusCode, 404, `${url} is not a file of the app`)
    t.equal(res.json().code, 'NOT_FOUND', `${url}: the API's JSON 404`)
  }
  t.equal((await app.inject({ method: 'GET', url: '/health' })).json().status, 'ok', 'the API\'s routes are unchanged')
})

t.test('without a build, / says how to build it', async t => {
  const root = await mkdtemp(join(tmpdir(), 'parley-web-empty-'))
  t.teardown(async () => { await rm(root, { recursive: true, force: true }) })
  const app = await buildTestApp(t, {}, { build: { webApp: { root } } })
  const res = await app.inject({ method: 'GET', url: '/' })
  t.equal(res.statusCode, 200)
  t.match(res.body, /npm run build/)
  t.equal((await app.inject({ method: 'GET', url: '/app.js' })).statusCode, 404)
})

t.test('webApp: { root: false } serves no app', async t => {
  const app = await buildTestApp(t, {}, { build: { webApp: { root: false } } })
  t.equal((await app.inject({ method: 'GET', url: '/' })).statusCode, 404)
})
