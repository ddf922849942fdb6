// The capacity model's arithmetic: each resource sized by its own limit, the binding limit named, never zero.
import t from 'tap'
import { MEASURED, plan } from '../../scripts/capacity-model.js'

t.test('instances follow the tighter of connections, messages and deliveries', async t => {
  const costs = { ...MEASURED, socketsPerInstance: 10_000, messagesPerInstance: 2_000, deliveriesPerInstance: 100_000, deliveriesPerMessage: 2, headroom: 0.5 }
  t.match(plan(1_000_000, 10_000, costs), { instances: 200, instancesBoundBy: 'connections' })
  t.match(plan(10_000, 100_000, costs), { instances: 100, instancesBoundBy: 'messages' })
  t.match(plan(10_000, 100_000, { ...costs, deliveriesPerMessage: 200 }), { instances: 400, instancesBoundBy: 'deliveries' })
})

t.test('Redis and MongoDB shards scale with the message rate, at least one each', async t => {
  const costs = { ...MEASURED, redisMicrosPerMessage: 40, redisMicrosPerShard: 1_000_000, mongoWritesPerMessage: 2, mongoWritesPerShard: 10_000, headroom: 0.5 }
  t.match(plan(1000, 100_000, costs), { redisShards: 8, mongoShards: 40 })
  t.match(plan(10, 1, costs), { instances: 1, redisShards: 1, mongoShards: 1 })
})
