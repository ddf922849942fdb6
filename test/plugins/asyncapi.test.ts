/**
 * /docs/asyncapi.json: a valid AsyncAPI 3.0.0 document (checked against the official JSON Schema from
 * @asyncapi/specs) that covers every event the gateway serves and every server event, with the very schemas the
 * gateway validates with.
 */
import t from 'tap'
import { Ajv } from 'ajv'
import addFormatsModule from 'ajv-formats'
import specs from '@asyncapi/specs'
import { clientEvents, serverEvents } from '../../src/realtime/events.schemas.js'
import { packageVersion } from '../../src/shared/package-info.js'
import { buildTestApp } from '../helpers/build-app.js'
import { emitRaw, startRealtimeApp, untyped } from '../helpers/realtime.js'
import { signUp } from '../helpers/users.js'

// ajv-formats is CommonJS with its plugin on `default`.
const addFormats = addFormatsModule.default

type Json = Record<string, any>

/** The validator of AsyncAPI 3.0.0 documents. */
function asyncApiValidator (): ReturnType<Ajv['compile']> {
  const schema = structuredClone(specs.schemas['3.0.0']) as Json
  // The bundle embeds JSON Schema draft-07, which Ajv already has: a second copy is refused (see @asyncapi/specs'
  // migration notes), so it goes.
  delete schema.definitions['http://json-schema.org/draft-07/schema']
  const ajv = new Ajv({ allErrors: true, strict: false })
  addFormats(ajv)
  return ajv.compile(schema)
}

/** Every `$ref` in the document, as the JSON pointer it names. */
function refsOf (value: unknown, found: string[] = []): string[] {
  if (Array.isArray(value)) for (const item of value) refsOf(item, found)
  else if (typeof value === 'object' && value !== null) {
    for (const [key, item] of Object.entries(value)) {
      if (key === '$ref' && typeof item === 'string') found.push(item)
      else refsOf(item, found)
    }
  }
  return found
}

function resolve (doc: Json, pointer: string): any {
  return pointer.replace(/^#\//, '').split('/').reduce<any>((node, key) => node?.[key.replace(/~1/g, '/').replace(/~0/g, '~')], doc)
}

/** A node with its `$ref`s followed (an operation's message names a channel message, which names a component). */
function deref (doc: Json, node: any): any {
  while (typeof node?.$ref === 'string') node = resolve(doc, node.$ref)
  return node
}

t.test('the AsyncAPI document is valid AsyncAPI 3.0.0 and covers the whole socket contract', async t => {
  const kit = await startRealtimeApp(t)
  const res = await kit.app.inject({ method: 'GET', url: '/docs/asyncapi.json' })
  t.equal(res.statusCode, 200)
  t.match(res.headers['content-type'], /^application\/json/)
  const doc = res.json() as Json

  const validate = asyncApiValidator()
  t.ok(validate(doc), 'valid against the AsyncAPI 3.0.0 JSON Schema')
  t.same(validate.errors ?? [], [], 'no schema errors')
  t.notOk(validate({ ...doc, operations: { broken: { action: 'publish', channel: { $ref: '#/channels/parley' } } } }), 'the validator does refuse an invalid document')
  for (const pointer of refsOf(doc)) t.not(resolve(doc, pointer), undefined, `${pointer} resolves`)

  t.equal(doc.asyncapi, '3.0.0')
  t.equal(doc.info.version, packageVersion(), 'info.version is package.json\'s')
  t.same(Object.keys(doc.channels), ['parley'], 'one channel')
  t.equal(doc.channels.parley.address, '/', 'the default namespace')
  t.equal(doc.servers.parley.pathname, '/socket.io')
  t.match(doc.components.securitySchemes.handshakeToken, { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: /auth\.token/ })

  // The events the gateway serves, found by asking it (as event-contract.test.ts does): a served event refuses an
  // unknown field with VALIDATION_ERROR, an unserved one answers UNKNOWN_EVENT.
  const alice = await signUp(kit.app, 'alice')
  const socket = untyped(await kit.connect(alice.accessToken))
  const sent = Object.keys(doc.operations).filter(key => doc.operations[key].action === 'send').map(key => key.replace(/^send\./, ''))
  for (const name of new Set([...Object.keys(clientEvents), ...sent])) {
    const ack = await emitRaw(socket, name, { unexpected: true })
    t.match(ack, { ok: false, error: { code: 'VALIDATION_ERROR' } }, `${name} is served`)
    const operation = doc.operations[`send.${name}`]
    t.match(operation, { action: 'send', channel: { $ref: '#/channels/parley' } }, `${name} is a send operation`)
    t.equal(deref(doc, operation.messages[0]).name, name, `${name}'s message`)
    t.same(deref(doc, operation.reply.messages[0]), doc.components.messages[`client.${name}.ack`], `${name} has its ack as the reply`)
  }
  for (const name of Object.keys(serverEvents)) {
    const operation = doc.operations[`receive.${name}`]
    t.match(operation, { action: 'receive', channel: { $ref: '#/channels/parley' } }, `${name} is a receive operation`)
    t.equal(deref(doc, operation.messages[0]).name, name, `${name}'s message`)
  }
  t.equal(Object.keys(doc.operations).length, Object.keys(clientEvents).length + Object.keys(serverEvents).length, 'no other operations')

  // The very schemas the gateway validates with (as JSON: TypeBox's codecs are not part of the wire format).
  t.same(doc.components.messages['client.chat_message'].payload, JSON.parse(JSON.stringify(clientEvents.chat_message.payload)))
  t.same(doc.components.messages['server.re_message'].payload, JSON.parse(JSON.stringify(serverEvents.re_message)))
  const ack = doc.components.messages['client.chat_message.ack'].payload
  t.same(ack.oneOf[0].properties.data, JSON.parse(JSON.stringify(clientEvents.chat_message.ack)), 'the ack carries the stored message')
  t.ok(doc.components.schemas.AckError.properties.error.properties.code.enum.includes('CONVERSATION_NOT_FOUND'), 'error acks list the codes')
})

t.test('the AsyncAPI route stays out of the OpenAPI document', async t => {
  const app = await buildTestApp(t)
  const spec = (await app.inject({ method: 'GET', url: '/docs/json' })).json()
  t.notOk(spec.paths['/docs/asyncapi.json'])
  t.equal(spec.info.version, packageVersion())
})
