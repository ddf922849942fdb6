import t from 'tap'
import { buildAuthApp } from '../../helpers/build-app.js'

t.test('OpenAPI at /docs describes the auth and users routes, with bearer security on protected ones', async t => {
  const app = await buildAuthApp(t)
  const res = await app.inject({ method: 'GET', url: '/docs/json' })
  t.equal(res.statusCode, 200)
  const { paths } = res.json()
  for (const path of ['/api/auth/register', '/api/auth/login', '/api/auth/refresh', '/api/auth/verify', '/api/auth/logout']) {
    t.ok(paths[path]?.post, `POST ${path}`)
  }
  t.ok(paths['/api/users/']?.get ?? paths['/api/users']?.get, 'GET /api/users')
  t.ok(paths['/api/users/me']?.get && paths['/api/users/me']?.patch && paths['/api/users/me']?.delete)
  t.ok(paths['/api/users/me/password']?.put)
  t.ok(paths['/api/users/{id}']?.get)

  const register = paths['/api/auth/register'].post
  const body = register.requestBody.content['application/json'].schema
  t.same([...body.required].sort(), ['email', 'password', 'username'])
  t.equal(body.properties.username.pattern, '^[A-Za-z0-9_.-]+$')
  t.ok(register.responses['201'] && register.responses['409'], 'responses documented')
  t.same(paths['/api/users/me'].get.security, [{ bearer: [] }])
  t.same(paths['/api/auth/logout'].post.security, [{ bearer: [] }])
  t.notOk(paths['/api/auth/login'].post.security, 'login is open')
  t.ok(paths['/api/auth/login'].post.responses['429'])
})
