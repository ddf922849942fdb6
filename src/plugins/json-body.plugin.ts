import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'

/**
 * JSON bodies with Fastify's own safe parser (prototype-poisoning keys refused), except that an empty body
 * with `Content-Type: application/json` means "no body": many HTTP clients send that header on a bodyless POST
 * (logout, leave, join). Routes that need a body still answer 400 through their schema.
 */
async function jsonBodyPlugin (app: FastifyInstance): Promise<void> {
  const parseJson = app.getDefaultJsonParser('error', 'error')
  app.removeContentTypeParser('application/json')
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    // parseAs 'string' hands us a string; the type also allows a Buffer.
    const text = typeof body === 'string' ? body : body.toString('utf8')
    if (text.trim() === '') {
      done(null, undefined)
      return
    }
    parseJson(request, text, done)
  })
}

export default fp(jsonBodyPlugin, { name: 'json-body', fastify: '5.x' })
