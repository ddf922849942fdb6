import t from 'tap'
import { loadConfig } from '../../../src/config/load-config.js'
import { OWASP_MINIMUM, PasswordService } from '../../../src/modules/auth/password.service.js'
import { buildTestApp } from '../../helpers/build-app.js'

function phcParams (hash: string): { m: number, t: number, p: number } {
  const match = /^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$|^\$argon2id\$v=19\$m=(\d+),p=(\d+),t=(\d+)\$/.exec(hash)
  if (match === null) throw new Error(`not an argon2id PHC string: ${hash}`)
  return match[1] !== undefined
    ? { m: Number(match[1]), t: Number(match[2]), p: Number(match[3]) }
    : { m: Number(match[4]), p: Number(match[5]), t: Number(match[6]) }
}

t.test('defaults are at or above OWASP\'s argon2id minimum (19 MiB, 2 iterations, parallelism 1)', async t => {
  t.same(OWASP_MINIMUM, { memoryKib: 19456, timeCost: 2, parallelism: 1 })
  const { argon2 } = loadConfig({})
  t.ok(argon2.memoryKib >= 19456, `memory ${argon2.memoryKib} KiB`)
  t.ok(argon2.timeCost >= 2, `iterations ${argon2.timeCost}`)
  t.ok(argon2.parallelism >= 1)
  const service = new PasswordService()
  t.same(service.options, { memoryKib: 19456, timeCost: 2, parallelism: 1 })

  // End to end with the real defaults: the stored hash carries them.
  const app = await buildTestApp(t)
  const res = await app.inject({ method: 'POST', url: '/api/auth/register', payload: { username: 'strong', email: 'strong@example.com', password: 'correct horse battery' } })
  t.equal(res.statusCode, 201)
  const stored = await app.models.User.findById(res.json().user.id).lean()
  const params = phcParams(stored?.passwordHash as string)
  t.ok(params.m >= 19456 && params.t >= 2 && params.p >= 1, `stored hash parameters ${JSON.stringify(params)}`)
})

t.test('hash and verify', async t => {
  const service = new PasswordService({ memoryKib: 64, timeCost: 1 })
  const hash = await service.hash('correct horse battery')
  t.not(await service.hash('correct horse battery'), hash, 'salted: the same password hashes differently')
  t.equal(await service.verify(hash, 'correct horse battery'), true)
  t.equal(await service.verify(hash, 'correct horse batterY'), false)
  t.equal(await service.verify('not a hash', 'anything'), false, 'an unreadable hash is a mismatch, not a crash')
  t.equal(await service.verifyDummy('correct horse battery'), false)
  t.equal(service.needsRehash(hash), false)
  t.equal(new PasswordService({ memoryKib: 128, timeCost: 1 }).needsRehash(hash), true)
  t.equal(service.needsRehash('garbage'), false)
})
