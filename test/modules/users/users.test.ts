import t from 'tap'
import { buildAuthApp } from '../../helpers/build-app.js'
import { bearer } from '../../helpers/rest.js'
import { register, signUp } from '../../helpers/users.js'

type App = Awaited<ReturnType<typeof buildAuthApp>>
const get = (app: App, url: string, token: string) => app.inject({ method: 'GET', url, headers: bearer(token) })

t.test('every users route needs a valid access token', async t => {
  const app = await buildAuthApp(t)
  const someone = await register(app)
  for (const [method, url] of [['GET', '/api/users'], ['GET', '/api/users/me'], ['PATCH', '/api/users/me'], ['PUT', '/api/users/me/password'], ['DELETE', '/api/users/me'], ['GET', `/api/users/${someone.id}`]] as const) {
    const res = await app.inject({ method, url, payload: {} })
    t.equal(res.statusCode, 401, `${method} ${url}`)
    t.equal(res.json().code, 'UNAUTHORIZED', `${method} ${url}`)
  }
})

t.test('GET /me has email and role; GET /:id is public (no email, no role)', async t => {
  const app = await buildAuthApp(t)
  const alice = await signUp(app, { username: 'alice', email: 'alice@example.com', firstName: 'Alice', lastName: 'Liddell' })
  const bob = await signUp(app, { username: 'bob' })

  const own = await get(app, '/api/users/me', alice.accessToken)
  t.equal(own.statusCode, 200)
  t.same(Object.keys(own.json()).sort(), ['createdAt', 'deleted', 'email', 'firstName', 'id', 'lastName', 'lastSeenAt', 'online', 'role', 'username'])
  t.match(own.json(), { id: alice.id, username: 'alice', email: 'alice@example.com', role: 'user', firstName: 'Alice' })

  const seen = await get(app, `/api/users/${alice.id}`, bob.accessToken)
  t.equal(seen.statusCode, 200)
  t.same(seen.json(), { id: alice.id, username: 'alice', firstName: 'Alice', lastName: 'Liddell', online: false, lastSeenAt: null, deleted: false })
  t.notMatch(seen.body, /alice@example\.com|"role"/)

  const missing = await get(app, '/api/users/0123456789abcdef01234567', bob.accessToken)
  t.equal(missing.statusCode, 404)
  t.equal(missing.json().code, 'USER_NOT_FOUND')
  for (const bad of ['nope', '0123456789abcdef0123456', '{"$ne":null}', '%7B%22%24ne%22%3Anull%7D']) {
    const res = await get(app, `/api/users/${bad}`, bob.accessToken)
    t.equal(res.statusCode, 400, bad)
    t.equal(res.json().code, 'VALIDATION_ERROR', bad)
  }
})

t.test('search: case-insensitive prefix of username, first or last name; cursor pages', async t => {
  const app = await buildAuthApp(t)
  const me = await signUp(app, { username: 'searcher' })
  await register(app, { username: 'Martha', firstName: 'Martha', lastName: 'Jones' })
  await register(app, { username: 'mark.k', firstName: 'Mark' })
  await register(app, { username: 'zed', firstName: 'Marie', lastName: 'Curie' })
  await register(app, { username: 'quinn', lastName: 'Marston' })
  await register(app, { username: 'other' })
  const gone = await signUp(app, { username: 'marvin' })
  t.equal((await app.inject({ method: 'DELETE', url: '/api/users/me', headers: bearer(gone.accessToken), payload: { password: gone.password } })).statusCode, 204)
  const off = await register(app, { username: 'marco' })
  await app.models.User.updateOne({ _id: off.id }, { $set: { disabled: true } })

  const res = await get(app, '/api/users?search=MAR', me.accessToken)
  t.equal(res.statusCode, 200)
  t.same(res.json().items.map((u: { username: string }) => u.username), ['mark.k', 'Martha', 'quinn', 'zed'], 'ordered by username; deleted and disabled left out')
  t.equal(res.json().nextCursor, null)
  t.notMatch(res.body, /@example\.com/, 'no emails in search results')

  const seen: string[] = []
  let cursor: string | null = null
  let pages = 0
  do {
    const page: { items: Array<{ username: string }>, nextCursor: string | null } =
      (await get(app, `/api/users?limit=2${cursor !== null ? `&cursor=${cursor}` : ''}`, me.accessToken)).json()
    t.ok(page.items.length <= 2)
    seen.push(...page.items.map(u => u.username))
    cursor = page.nextCursor
    pages++
  } while (cursor !== null && pages < 10)
  t.same(seen, ['mark.k', 'Martha', 'other', 'quinn', 'searcher', 'zed'], 'every live user once, in order, across pages')

  t.same((await get(app, '/api/users?search=m.a', me.accessToken)).json().items, [], 'regex characters are literal')
  t.same((await get(app, '/api/users?search=.*', me.accessToken)).json().items, [])
  t.equal((await get(app, '/api/users?search=mark.', me.accessToken)).json().items[0].username, 'mark.k')

  for (const query of ['limit=0', 'limit=201', 'limit=abc', 'cursor=not-a-cursor', 'search[$ne]=x', 'unknown=1']) {
    const bad = await get(app, `/api/users?${query}`, me.accessToken)
    t.equal(bad.statusCode, 400, query)
    t.match(bad.json().code, /^(VALIDATION_ERROR|INVALID_CURSOR)$/, query)
  }
})
