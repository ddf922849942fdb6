import t from 'tap'
import { setTimeout as sleep } from 'node:timers/promises'
import { KeyedSerialQueue } from '../../../src/modules/messages/keyed-serial-queue.js'

t.test('tasks of one key run one at a time, in order; other keys run alongside', async t => {
  const queue = new KeyedSerialQueue()
  const log: string[] = []
  let running = 0
  let maxRunning = 0
  const task = (name: string, ms: number) => async () => {
    running++
    maxRunning = Math.max(maxRunning, running)
    log.push(`start ${name}`)
    await sleep(ms)
    log.push(`end ${name}`)
    running--
    return name
  }
  const results = await Promise.all([
    queue.run('a', task('a1', 20)),
    queue.run('a', task('a2', 1)),
    queue.run('b', task('b1', 5))
  ])
  t.same(results, ['a1', 'a2', 'b1'])
  t.ok(log.indexOf('end a1') < log.indexOf('start a2'), 'a2 waits for a1')
  t.ok(log.indexOf('start b1') < log.indexOf('end a1'), 'b runs while a is busy')
  t.equal(maxRunning, 2)
  t.equal(queue.busy('a'), false, 'a drained key is forgotten')
})

t.test('a failing task does not block the ones behind it', async t => {
  const queue = new KeyedSerialQueue()
  const failed = queue.run('k', async () => { throw new Error('boom') })
  const next = queue.run('k', async () => 'after')
  await t.rejects(failed, /boom/)
  t.equal(await next, 'after')
})
