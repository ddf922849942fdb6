/**
 * Inputs that used to reach a query and fail there (a 500): list cursors whose decoded values are out of range, and
 * search text with a NUL byte. Each is a 400 now, with the list still answering normal requests.
 */
import t from 'tap'
import { Types } from 'mongoose'
import { encodeCursor } from '../../../src/modules/common/opaque-cursor.js'
import { buildChatApp } from '../../helpers/build-app.js'
import { api } from '../../helpers/rest.js'
import { signUp } from '../../helpers/users.js'

t.test('out-of-range and malformed cursors are 400 INVALID_CURSOR on every list', async t => {
  const app = await buildChatApp(t)
  const alice = await signUp(app, 'alice')
  const call = api(app, alice)
  const id = new Types.ObjectId().toHexString()
  const conversationCursors = [
    encodeCursor({ t: 1e20, i: id }), encodeCursor({ t: -8.64e15 - 1, i: id }), encodeCursor({ t: 1.5, i: id }),
    encodeCursor({ t: Date.now(), i: 'nope' }), encodeCursor({ t: Date.now(), i: id.toUpperCase() + 'x' })
  ]
  for (const cursor of conversationCursors) {
    const res = await call('GET', `/api/conversations?cursor=${cursor}`)
    t.equal(res.statusCode, 400, Buffer.from(cursor, 'base64url').toString())
    t.equal(res.json().code, 'INVALID_CURSOR')
  }
  t.equal((await call('GET', `/api/conversations?cursor=${encodeCursor({ t: Date.now(), i: id })}`)).statusCode, 200, 'a valid one still pages')
  for (const cursor of [encodeCursor({ u: 'a\u0000b' }), encodeCursor({ u: 'x'.repeat(65) }), encodeCursor({ u: 7 })]) {
    const res = await call('GET', `/api/users?cursor=${cursor}`)
    t.equal(res.statusCode, 400, Buffer.from(cursor, 'base64url').toString())
    t.equal(res.json().code, 'INVALID_CURSOR')
  }
})

t.test('search text with a NUL byte is a 400, not a failed query', async t => {
  const app = await buildChatApp(t)
  const alice = await signUp(app, 'alice')
  const call = api(app, alice)
  for (const search of ['a%00b', '%00', 'alice%00']) {
    const res = await call('GET', `/api/users?search=${search}`)
    t.equal(res.statusCode, 400, search)
    t.equal(res.json().code, 'VALIDATION_ERROR', search)
  }
  t.equal((await call('GET', '/api/users?search=ali')).statusCode, 200)
})
