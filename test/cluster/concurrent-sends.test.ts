import t from 'tap'
import { appsOnOneDatabase } from '../helpers/cluster.js'
import { openDirect } from '../helpers/conversations.js'
import { api } from '../helpers/rest.js'
import { signUp } from '../helpers/users.js'

// Two instances on one database and nothing else shared (no Redis): seq allocation and idempotency rely on the
// database's unique indexes, not on anything in one process.
t.test('two instances sending into one conversation at once: seqs 1..N, one copy per clientMsgId', async t => {
  const { start } = appsOnOneDatabase(t, { env: { RATE_LIMIT_MESSAGES: '0' } })
  const one = await start()
  const two = await start()

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
