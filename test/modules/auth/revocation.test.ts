/**
 * The revocation list across instances: several apps on one database (the first one's embedded engine served on a
 * port, or MONGODB_URL) and no Redis, so what crosses instances is the database poll alone.
 */
import t from 'tap'
import { setTimeout as sleep } from 'node:timers/promises'
import type { FastifyInstance } from 'fastify'
import { RevocationService, type Revocation } from '../../../src/modules/auth/revocation.service.js'
import { appsOnOneDatabase } from '../../helpers/cluster.js'
import { bearer } from '../../helpers/rest.js'
import { sidOf } from '../../helpers/tokens.js'
import { newSession, signUp } from '../../helpers/users.js'

const me = (app: FastifyInstance, token: string) => app.inject({ method: 'GET', url: '/api/users/me', headers: bearer(token) })

t.test('a logout on one instance reaches the others through the poll', async t => {
  const { start } = appsOnOneDatabase(t)
  const a = await start()
  const b = await start()
  const user = await signUp(a)
  t.equal((await me(b, user.accessToken)).statusCode, 200, 'tokens work on every instance')

  const heardOnA: Revocation[] = []
  const heardOnB: Revocation[] = []
  a.revocation.onRevoked(r => heardOnA.push(r))
  const unsubscribe = b.revocation.onRevoked(r => heardOnB.push(r))

  t.equal((await a.inject({ method: 'POST', url: '/api/auth/logout', headers: bearer(user.accessToken) })).statusCode, 204)
  t.equal((await me(a, user.accessToken)).statusCode, 401, 'refused at once where it was revoked')
  await b.revocation.poll()
  const res = await me(b, user.accessToken)
  t.equal(res.statusCode, 401, 'refused on the other instance after its poll')
  t.equal(res.json().code, 'TOKEN_REVOKED')

  t.match(heardOnA, [{ sid: sidOf(user.accessToken), userId: user.id, reason: 'logout', local: true }])
  t.match(heardOnB, [{ sid: sidOf(user.accessToken), userId: user.id, reason: 'logout', local: false }])
  await b.revocation.poll()
  t.equal(heardOnB.length, 1, 'listeners hear each revocation once')
  unsubscribe()

  const late = await start()
  t.equal((await me(late, user.accessToken)).statusCode, 401, 'an instance started later loads the list at start')
})

t.test('the periodic poll converges without being asked', async t => {
  const { start } = appsOnOneDatabase(t)
  const a = await start()
  const b = await start()
  const user = await signUp(a)
  await a.inject({ method: 'POST', url: '/api/auth/refresh', payload: { refreshToken: user.refreshToken } })
  // Theft detection on B revokes the session; A learns it from its own timer (default every 2 s).
  const reuse = await b.inject({ method: 'POST', url: '/api/auth/refresh', payload: { refreshToken: user.refreshToken } })
  t.equal(reuse.json().code, 'REFRESH_TOKEN_REUSED')
  let status = 200
  for (let i = 0; i < 100 && status === 200; i++) {
    await sleep(100)
    status = (await me(a, user.accessToken)).statusCode
  }
  t.equal(status, 401, 'instance A refuses the token once its poll ran')
})

t.test('password change and account deletion revoke across instances', async t => {
  const { start } = appsOnOneDatabase(t)
  const a = await start()
  const b = await start()
  const user = await signUp(a)
  const second = await newSession(b, user)
  const changed = await a.inject({
    method: 'PUT', url: '/api/users/me/password', headers: bearer(user.accessToken),
    payload: { currentPassword: user.password, newPassword: 'a brand new password' }
  })
  t.equal(changed.statusCode, 204)
  await b.revocation.poll()
  t.equal((await me(b, second.accessToken)).statusCode, 401, 'the other session is refused on B')
  t.equal((await me(b, user.accessToken)).statusCode, 200, 'the caller\'s own session stays')
})

t.test('the list keeps a revoked session only while its access tokens can live', async t => {
  const { start } = appsOnOneDatabase(t)
  const app = await start()
  const { Session } = app.models
  const userId = '0123456789abcdef01234567'
  const base = { userId, refreshHash: 'h', usedRefreshHashes: [], lastUsedAt: new Date(), expiresAt: new Date(Date.now() + 86400_000), purgeAt: new Date(Date.now() + 86400_000) }
  const old = await Session.create({ ...base, refreshHash: 'old', revokedAt: new Date(Date.now() - 20 * 60_000), revokedReason: 'logout' })
  const recent = await Session.create({ ...base, refreshHash: 'recent', revokedAt: new Date(Date.now() - 5 * 60_000), revokedReason: 'logout' })
  const active = await Session.create({ ...base, refreshHash: 'active' })

  // 15 min tokens + 60 s skew: 20 minutes ago is out, 5 minutes ago is in.
  const service = new RevocationService({ Session, accessTokenTtlSeconds: 900, pollIntervalMs: 0 })
  await service.start()
  t.teardown(() => service.stop())
  t.notOk(service.isRevoked(String(old._id)), 'too old to matter')
  t.ok(service.isRevoked(String(recent._id)))
  t.notOk(service.isRevoked(String(active._id)))
  t.equal(service.size, 1)

  t.equal(await service.revoke(String(active._id), 'logout'), true)
  t.equal(await service.revoke(String(active._id), 'logout'), false, 'revoking twice is a no-op')
  t.ok(service.isRevoked(String(active._id)))

  const short = new RevocationService({ Session, accessTokenTtlSeconds: 1, clockSkewMs: 0, pollIntervalMs: 0 })
  await short.start()
  const fresh = await Session.create({ ...base, refreshHash: 'fresh' })
  await short.revoke(String(fresh._id), 'logout')
  t.ok(short.isRevoked(String(fresh._id)))
  await sleep(1100)
  await short.poll()
  t.notOk(short.isRevoked(String(fresh._id)), 'pruned once every access token of it has expired')
})

t.test('apply() takes pushed revocations (the cluster bus) and notifies once', async t => {
  const { start } = appsOnOneDatabase(t)
  const app = await start()
  const heard: Revocation[] = []
  app.revocation.onRevoked(r => heard.push(r))
  app.revocation.onRevoked(() => { throw new Error('a broken listener') })
  const pushed = { sid: 'aaaaaaaaaaaaaaaaaaaaaaaa', userId: 'bbbbbbbbbbbbbbbbbbbbbbbb', reason: 'logout' as const, revokedAt: new Date() }
  app.revocation.apply(pushed)
  app.revocation.apply(pushed)
  t.ok(app.revocation.isRevoked(pushed.sid))
  t.equal(heard.length, 1)
  t.match(heard[0], { ...pushed, local: false })
  app.revocation.apply({ ...pushed, sid: 'cccccccccccccccccccccccc', revokedAt: new Date(Date.now() - 3600_000) })
  t.notOk(app.revocation.isRevoked('cccccccccccccccccccccccc'), 'a push older than the retention window is ignored')
})
