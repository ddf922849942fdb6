/**
 * The bad-input sweep (bad-input-kit.ts) over the admin routes, as an admin (as a user they stop at the role check):
 * the history's filters, cursors, ids and bodies at their worst. None may answer 5xx.
 */
import t from 'tap'
import { openDirect } from '../helpers/conversations.js'
import { buildChatApp } from '../helpers/build-app.js'
import { login, signUp } from '../helpers/users.js'
import { sweepRoutes } from './bad-input-kit.js'

t.test('every admin route, worst inputs, as an admin: a 4xx (or 2xx), never a 5xx', async t => {
  const app = await buildChatApp(t, { RATE_LIMIT_MESSAGES: '0', ADMIN_USERNAME: 'root', ADMIN_EMAIL: 'root@example.com', ADMIN_PASSWORD: 'root password' })
  const [alice, bob] = await Promise.all([signUp(app, 'alice'), signUp(app, 'bob')])
  const conversationId = await openDirect(app, alice, bob)
  const root = await login(app, 'root', 'root password')
  const { failures, requests } = await sweepRoutes(app, {
    token: root.accessToken, knownId: conversationId, include: path => path.startsWith('/api/admin'), fields: ['role', 'disabled', 'userId', 'conversationId', 'q']
  })
  t.same(failures, [], `no 5xx over ${requests} requests`)
  t.ok(requests > 1000, `the admin routes were swept (${requests} requests)`)
  t.equal((await app.inject({ method: 'GET', url: '/health' })).statusCode, 200, 'still serving')
})
