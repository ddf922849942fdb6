import t from 'tap'
import { buildApp } from '../../../src/app.js'
import { testConfig } from '../../helpers/build-app.js'
import { FAST_ARGON2 } from '../auth/auth-helpers.js'
import { api, openDirect, signUp } from './chat-helpers.js'

// Two instances on one database (the first one's embedded engine): seq allocation and idempotency rely on the
// database's unique indexes, not on anything in one process.
const external = process.env.MONGODB_URL !== undefined && process.env.MONGODB_URL !== ''

t.test('two instances sending into one conversation at once: seqs 1..N, one copy per clientMsgId', { skip: external && 'uses the embedded engine of the first instance' }, async t => {
  const env = { ...FAST_ARGON2, RATE_LIMIT_MESSAGES: '0' }
  const one = await buildApp(testConfig(env))
  await one.ready()
  const embedded = one.storage.embedded
  if (embedded === null) throw new Error('expected the embedded engine')
  const url = new URL(embedded.url)
  url.pathname = `/${one.storage.connection.name}`
  const two = await buildApp(testConfig({ ...env, MONGODB_URL: url.toString() }))
  t.teardown(async () => {
    await two.close()
    await one.close()
  })
  await two.ready()

  const alice = await signUp(one)
  const bob = await signUp(one)
  const id = await openDirect(one, alice, bob)
  t.equal((await api(two, bob)('GET', `/api/conversations/${id}`)).statusCode, 200, 'the second instance sees it')

  const posts = Array.from({ length: 40 }, async (_, i) =>
    await api(i % 2 === 0 ? one : two, i % 3 === 0 ? bob : alice)('POST', `/api/conversations/${id}/messages`, { body: `n${i}` }))
  const retries = Array.from({ length: 6 }, async (_, i) =>
    await api(i % 2 === 0 ? one : two, alice)('POST', `/api/conversations/${id}/messages`, { body: 'retried', clientMsgId: 'same' }))
  const results = await Promise.all([...posts, ...retries])
  t.same(results.filter(r => r.statusCode !== 201 && r.statusCode !== 200).map(r => r.body), [])
  t.same(new Set(results.slice(40).map(r => r.json().id)).size, 1, 'every retry got the one stored message')
  const seqs = (await one.models.Message.find({ conversationId: id }).sort({ seq: 1 }).lean()).map(m => m.seq)
  t.same(seqs, Array.from({ length: 41 }, (_, i) => i + 1), 'no gaps, no duplicates')
  t.equal((await api(two, alice)('GET', `/api/conversations/${id}`)).json().lastSeq, 41)
})
