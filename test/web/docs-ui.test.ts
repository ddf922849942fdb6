// The Swagger UI at /docs in a real browser: it renders every route under its Content-Security-Policy (it is
// same-origin with the web app, whose tokens sit in sessionStorage: no script but its own may run there).
import t from 'tap'
import { startWebApp } from './browser-kit.js'

t.test('the /docs UI renders under its CSP', async t => {
  const kit = await startWebApp(t)
  const page = await (await kit.browser.newContext()).newPage()
  const errors: string[] = []
  page.on('console', message => { if (message.type() === 'error') errors.push(message.text()) })
  const response = await page.goto(`${kit.url}/docs/static/index.html`)
  t.match(response?.headers()['content-security-policy'], /script-src 'self'; script-src-attr 'none'/, 'served with a CSP')
  await page.locator('.swagger-ui .info .title', { hasText: 'Parley' }).waitFor()
  t.ok(await page.locator('.opblock').count() > 30, 'every REST route is listed')
  t.same(errors.filter(error => /Content Security Policy/.test(error)), [], 'nothing the UI needs is blocked')
})
