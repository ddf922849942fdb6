import { buildApp } from './src/app.js'
import { testConfig } from './test/helpers/build-app.js'
const app = await buildApp(testConfig({ RATE_LIMIT_MESSAGES: '0', ARGON2_MEMORY_KIB: '64', ARGON2_TIME_COST: '1' }))
const reg = async (n: string) => (await app.inject({ method: 'POST', url: '/api/auth/register', payload: { username: n, email: n + '@x.io', password: 'correct horse battery' } })).json().user.id
const a = await reg('alice'); const b = await reg('bobby')
const { conversation } = await app.conversations.openDirect(a, b)
const cid = String(conversation._id)
const time = async (label: string, n: number, fn: (i: number) => Promise<unknown>) => {
  const t0 = performance.now()
  for (let i = 0; i < n; i++) await fn(i)
  console.log(label, ((performance.now() - t0) / n * 1000).toFixed(0), 'us')
}
await time('send', 500, i => app.messages.send(a, { conversationId: cid, body: 'hello ' + i, clientMsgId: 'c' + i }))
await time('send', 500, i => app.messages.send(a, { conversationId: cid, body: 'hello ' + i, clientMsgId: 'd' + i }))
await time('requireMember', 500, () => app.conversations.requireMember(a, cid))
await time('moveMark', 500, (i) => app.conversations.moveMark({ ...conversation, lastSeq: 100000 }, a, 'read', 1000 + i))
const t0 = performance.now()
await Promise.all(Array.from({ length: 500 }, (_, i) => app.messages.send(a, { conversationId: cid, body: 'x', clientMsgId: 'e' + i })))
console.log('500 concurrent sends', ((performance.now() - t0) / 500 * 1000).toFixed(0), 'us each')
await app.close()
