import t from 'tap'
import { decodeCursor, encodeCursor } from '../../../src/modules/common/opaque-cursor.js'
import { AppError } from '../../../src/shared/errors.js'

const readName = (position: Record<string, unknown>): string | null => typeof position.u === 'string' ? position.u : null

t.test('a cursor decodes to the position it was made from', async t => {
  t.equal(decodeCursor(encodeCursor({ u: 'alice' }), readName), 'alice')
  t.match(encodeCursor({ u: 'alice' }), /^[A-Za-z0-9_-]+$/, 'URL-safe')
})

t.test('anything else is a 400 INVALID_CURSOR', async t => {
  const forged = [
    'not base64 !!', '', Buffer.from('[1,2]').toString('base64url'), Buffer.from('null').toString('base64url'),
    Buffer.from('{"u":{"$gt":""}}').toString('base64url'), Buffer.from('{"x":1}').toString('base64url'),
    Buffer.from('{"u":').toString('base64url')
  ]
  for (const cursor of forged) {
    let caught: unknown = null
    try {
      decodeCursor(cursor, readName)
    } catch (error) {
      caught = error
    }
    t.ok(caught instanceof AppError, `${JSON.stringify(cursor)} is refused`)
    t.match(caught, { statusCode: 400, code: 'INVALID_CURSOR' })
  }
})
