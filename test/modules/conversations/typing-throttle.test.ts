import t from 'tap'
import { TypingThrottle } from '../../../src/modules/conversations/typing-throttle.js'

t.test('a repeat of the same state inside the window is dropped; a change always passes', async t => {
  const throttle = new TypingThrottle({ windowMs: 1000 })
  t.equal(throttle.allow('u', 'c', true, 0), true)
  t.equal(throttle.allow('u', 'c', true, 500), false)
  t.equal(throttle.allow('u', 'c', false, 600), true, 'stopping is never delayed')
  t.equal(throttle.allow('u', 'c', true, 700), true)
  t.equal(throttle.allow('u', 'c', true, 1700), true, 'after the window, again')
  t.equal(throttle.allow('u', 'other', true, 1700), true, 'per conversation')
  t.equal(throttle.allow('v', 'c', true, 1700), true, 'per user')
})

t.test('stale entries are pruned when the map is full', async t => {
  const throttle = new TypingThrottle({ windowMs: 1000, maxEntries: 2 })
  throttle.allow('a', 'c', true, 0)
  throttle.allow('b', 'c', true, 0)
  t.equal(throttle.allow('c', 'c', true, 5000), true, 'prunes a and b')
  t.equal((throttle as unknown as { last: Map<string, unknown> }).last.size, 1, 'a and b were forgotten: memory stays bounded')
  t.equal(throttle.allow('c', 'c', true, 5002), false, 'c is fresh, so its repeat is dropped')
})

t.test('alternating true/false does not pass the throttle: at most maxPerWindow indicators a window', async t => {
  const throttle = new TypingThrottle({ windowMs: 1000, maxPerWindow: 4 })
  const passed = Array.from({ length: 100 }, (_, i) => throttle.allow('u', 'c', i % 2 === 0, i * 5)).filter(Boolean).length
  t.equal(passed, 4, '100 alternations in half a second: 4 pass')
  t.equal(throttle.allow('u', 'c', true, 1000), true, 'the next window opens again')
  t.equal(throttle.allow('u', 'other', true, 10), true, 'other conversations are not affected')
})
