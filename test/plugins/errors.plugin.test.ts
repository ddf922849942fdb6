import { STATUS_CODES } from 'node:http'
import t, { type Test } from 'tap'
import { Type } from 'typebox'
import type { LightMyRequestResponse as Response } from 'fastify'
import { buildTestApp } from '../helpers/build-app.js'
import { AppError, conflict, forbidden, notFound, unauthorized } from '../../src/shared/errors.js'

/** Asserts `res` is an error in the contract's shape: JSON, exactly these fields, statusCode and error matching HTTP. */
function assertErrorShape (t: Test, res: Response, status: number, code: string, label: string): void {
  t.equal(res.statusCode, status, `${label}: status`)
  t.match(res.headers['content-type'], /^application\/json/, `${label}: JSON`)
  const body = res.json()
  const allowed = ['statusCode', 'error', 'code', 'message', 'details']
  t.same(Object.keys(body).filter(key => !allowed.includes(key)), [], `${label}: no other fields (no stack)`)
  t.match(body, { statusCode: status, error: STATUS_CODES[status], code, message: String }, `${label}: fields`)
}

t.test('errors come back in the contract\'s shape', async t => {
  const app = await buildTestApp(t, {}, {
    setup: app => {
      app.get('/t/app-error', async () => { throw conflict('USERNAME_TAKEN', 'That username is taken') })
      app.get('/t/crash', async () => { throw new TypeError('secret internal detail') })
    }
  })
  const json = { 'content-type': 'application/json' }

  assertErrorShape(t, await app.inject({ method: 'GET', url: '/api/nope' }), 404, 'NOT_FOUND', 'unknown route')

  const invalid = await app.inject({ method: 'POST', url: '/api/auth/register', payload: { username: { $gt: '' }, password: 1 } })
  assertErrorShape(t, invalid, 400, 'VALIDATION_ERROR', 'validation')
  t.ok(Array.isArray(invalid.json().details) && invalid.json().details.length > 0, 'validation: details list the problems')
  for (const detail of invalid.json().details) t.match(detail, { field: /^body/, message: String }, 'validation: a detail names its field')

  assertErrorShape(t, await app.inject({ method: 'POST', url: '/api/auth/login', headers: json, payload: '{"login":' }), 400, 'INVALID_BODY', 'invalid JSON')
  const tooLarge = JSON.stringify({ login: 'x'.repeat(2 * 1024 * 1024), password: 'x' })
  assertErrorShape(t, await app.inject({ method: 'POST', url: '/api/auth/login', headers: json, payload: tooLarge }), 413, 'PAYLOAD_TOO_LARGE', 'too large')

  // AppErrors: from a real route (the auth guard) and thrown by a handler, with their own code and status.
  assertErrorShape(t, await app.inject({ method: 'GET', url: '/api/users/me' }), 401, 'UNAUTHORIZED', 'the auth guard')
  const appError = await app.inject({ method: 'GET', url: '/t/app-error' })
  assertErrorShape(t, appError, 409, 'USERNAME_TAKEN', 'an AppError')
  t.equal(appError.json().message, 'That username is taken')

  const crash = await app.inject({ method: 'GET', url: '/t/crash' })
  assertErrorShape(t, crash, 500, 'INTERNAL_ERROR', 'a thrown TypeError')
  t.same(crash.json(), { statusCode: 500, error: 'Internal Server Error', code: 'INTERNAL_ERROR', message: 'Something went wrong on our side' })
  t.notMatch(crash.body, /secret internal detail|TypeError|\.ts:\d+/, 'no message, name or stack frame of the error leaks')
})

t.test('unknown routes are a 404 in the contract\'s shape', async t => {
  const app = await buildTestApp(t)
  const res = await app.inject({ method: 'GET', url: '/api/nope?x=1' })
  t.equal(res.statusCode, 404)
  t.same(res.json(), { statusCode: 404, error: 'Not Found', code: 'NOT_FOUND', message: 'Route GET /api/nope not found' })
})

t.test('thrown errors map once: AppError, validation, bad JSON, too large, unsupported type, crash', async t => {
  const app = await buildTestApp(t, {}, {
    setup: app => {
      app.post('/t/validate', {
        schema: { body: Type.Object({ name: Type.String({ minLength: 3 }), age: Type.Integer() }, { additionalProperties: false }) }
      }, async () => ({ ok: true }))
      app.get('/t/conflict', async () => { throw conflict('USERNAME_TAKEN', 'That username is taken') })
      app.get('/t/details', async () => { throw new AppError('VALIDATION_ERROR', 'Bad thing', { field: 'x' }) })
      app.get('/t/401', async () => { throw unauthorized() })
      app.get('/t/403', async () => { throw forbidden() })
      app.get('/t/404', async () => { throw notFound('No such conversation') })
      app.get('/t/crash', async () => { throw new TypeError('secret internal detail') })
    }
  })

  let res = await app.inject({ method: 'GET', url: '/t/conflict' })
  t.equal(res.statusCode, 409)
  t.same(res.json(), { statusCode: 409, error: 'Conflict', code: 'USERNAME_TAKEN', message: 'That username is taken' })

  res = await app.inject({ method: 'GET', url: '/t/details' })
  t.same(res.json().details, { field: 'x' })

  for (const [url, status, code] of [['/t/401', 401, 'UNAUTHORIZED'], ['/t/403', 403, 'FORBIDDEN'], ['/t/404', 404, 'NOT_FOUND']] as const) {
    res = await app.inject({ method: 'GET', url })
    t.equal(res.statusCode, status, url)
    t.equal(res.json().code, code, url)
  }

  res = await app.inject({ method: 'POST', url: '/t/validate', payload: { name: { $gt: '' }, age: 'x' } })
  t.equal(res.statusCode, 400)
  t.equal(res.json().code, 'VALIDATION_ERROR')
  t.ok(Array.isArray(res.json().details) && res.json().details.length > 0, 'details list the problems')
  t.match(res.json().details[0], { field: /^body/, message: String })

  res = await app.inject({ method: 'POST', url: '/t/validate', headers: { 'content-type': 'application/json' }, payload: '{"name":' })
  t.equal(res.statusCode, 400)
  t.equal(res.json().code, 'INVALID_BODY')

  res = await app.inject({ method: 'POST', url: '/t/validate', headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ name: 'x'.repeat(2 * 1024 * 1024), age: 1 }) })
  t.equal(res.statusCode, 413)
  t.equal(res.json().code, 'PAYLOAD_TOO_LARGE')

  res = await app.inject({ method: 'POST', url: '/t/validate', headers: { 'content-type': 'application/x-unknown' }, payload: 'abc' })
  t.equal(res.statusCode, 415)
  t.equal(res.json().code, 'UNSUPPORTED_MEDIA_TYPE')

  res = await app.inject({ method: 'GET', url: '/t/crash' })
  t.equal(res.statusCode, 500)
  t.same(res.json(), { statusCode: 500, error: 'Internal Server Error', code: 'INTERNAL_ERROR', message: 'Something went wrong on our side' })
  t.notMatch(res.body, /secret internal detail/, 'internals never leak')
})

t.test('an empty JSON body means no body; a bodyless route accepts it, a route that needs one says why', async t => {
  const app = await buildTestApp(t, {}, {
    setup: app => {
      app.post('/t/optional', async request => ({ body: request.body ?? null }))
      app.post('/t/required', { schema: { body: Type.Object({ name: Type.String() }) } }, async () => ({ ok: true }))
    }
  })
  const json = { 'content-type': 'application/json' }

  let res = await app.inject({ method: 'POST', url: '/t/optional', headers: json, payload: '' })
  t.equal(res.statusCode, 200)
  t.same(res.json(), { body: null })

  res = await app.inject({ method: 'POST', url: '/t/required', headers: json, payload: '' })
  t.equal(res.statusCode, 400)
  t.equal(res.json().code, 'VALIDATION_ERROR')

  res = await app.inject({ method: 'POST', url: '/t/optional', headers: json, payload: '{"__proto__":{"admin":true}}' })
  t.equal(res.statusCode, 400, 'prototype poisoning is still refused')
})
