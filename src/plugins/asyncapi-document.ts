/**
 * The AsyncAPI 3.0.0 document of the socket contract, built from the schemas the gateway validates with
 * (realtime/events.schemas.ts), so it cannot drift from what is served. The docs plugin serves it at
 * /docs/asyncapi.json. Operations are a client's: it `send`s each client event (the ack is the operation's reply)
 * and `receive`s each server event.
 */
import { clientEvents, serverEvents } from '../realtime/events.schemas.js'
import { ERROR_STATUS } from '../shared/errors.js'

export interface AsyncApiOptions {
  /** info.version: Parley's version (package.json). */
  version: string
  /** The server host (and port) clients connect to; default `localhost:3000`. */
  host?: string
}

type Json = Record<string, unknown>

const CHANNEL = 'parley'
const ref = (path: string): Json => ({ $ref: `#/${path}` })
const channelMessage = (key: string): Json => ref(`channels/${CHANNEL}/messages/${key}`)
const clientKey = (name: string): string => `client.${name}`
const ackKey = (name: string): string => `client.${name}.ack`
const serverKey = (name: string): string => `server.${name}`

/** TypeBox schemas are JSON Schema; this drops what JSON cannot carry (codecs, symbols), as the wire does. */
const plain = (schema: unknown): Json => JSON.parse(JSON.stringify(schema)) as Json

/** An error ack, the same for every event: `{ ok: false, error: { code, message } }`. */
const AckError = {
  type: 'object',
  required: ['ok', 'error'],
  additionalProperties: false,
  properties: {
    ok: { const: false },
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: {
        code: { type: 'string', enum: Object.keys(ERROR_STATUS), description: 'Stable machine-readable code (docs/api.md#errors)' },
        message: { type: 'string' }
      }
    }
  }
}

function ackSchema (data: unknown): Json {
  const ok = { type: 'object', required: ['ok', 'data'], additionalProperties: false, properties: { ok: { const: true }, data: plain(data) } }
  return { oneOf: [ok, ref('components/schemas/AckError')] }
}

function messages (): Json {
  const all: Json = {}
  for (const [name, { payload, ack }] of Object.entries(clientEvents)) {
    all[clientKey(name)] = {
      name,
      title: `${name} (client to server)`,
      summary: `The payload may also carry \`action: "${name}"\`; any other action is refused.`,
      contentType: 'application/json',
      payload: plain(payload)
    }
    all[ackKey(name)] = { name: `${name} ack`, title: `${name} ack`, contentType: 'application/json', payload: ackSchema(ack) }
  }
  for (const [name, payload] of Object.entries(serverEvents)) {
    all[serverKey(name)] = { name, title: `${name} (server to client)`, contentType: 'application/json', payload: plain(payload) }
  }
  return all
}

function operations (): Json {
  const channel = ref(`channels/${CHANNEL}`)
  const all: Json = {}
  for (const name of Object.keys(clientEvents)) {
    all[`send.${name}`] = {
      action: 'send',
      channel,
      summary: `Emit \`${name}\` with an ack callback`,
      messages: [channelMessage(clientKey(name))],
      reply: { channel, messages: [channelMessage(ackKey(name))] }
    }
  }
  for (const name of Object.keys(serverEvents)) {
    all[`receive.${name}`] = { action: 'receive', channel, summary: `Listen for \`${name}\``, messages: [channelMessage(serverKey(name))] }
  }
  return all
}

const SECURITY_SCHEMES = {
  handshakeToken: {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'JWT',
    description: 'The access token (POST /api/auth/login or /api/auth/refresh) in the Socket.IO handshake\'s `auth.token`: ' +
      '`io(url, { path: "/socket.io", auth: { token } })`. Not an HTTP header; an optional `Bearer ` prefix is accepted. ' +
      'A refused handshake is a `connect_error` with message "unauthorized" and `data.code`. Renew it on the live ' +
      'socket with `auth_refresh` before it expires.'
  },
  queryToken: { type: 'httpApiKey', name: 'token', in: 'query', description: 'The same token in the handshake\'s `?token=` query, for clients that cannot set `auth`.' }
}

export function asyncApiDocument (options: AsyncApiOptions): Json {
  const all = messages()
  return {
    asyncapi: '3.0.0',
    info: {
      title: 'Parley realtime',
      version: options.version,
      description: 'The Socket.IO events of the Parley chat backend (Socket.IO 4). Every client event takes an ack ' +
        'callback, answered `{ ok: true, data }` or `{ ok: false, error: { code, message } }`; every server event ' +
        'carries `action` equal to its name. Operations are described from a client\'s side. The REST facade is at /docs.'
    },
    servers: {
      parley: {
        host: '{host}',
        protocol: 'ws',
        pathname: '/socket.io',
        description: 'Socket.IO (WebSocket, or HTTP long-polling as a fallback) on the REST server\'s port.',
        variables: { host: { default: options.host ?? 'localhost:3000' } },
        security: [ref('components/securitySchemes/handshakeToken'), ref('components/securitySchemes/queryToken')]
      }
    },
    defaultContentType: 'application/json',
    channels: {
      [CHANNEL]: {
        address: '/',
        title: 'Socket.IO namespace /',
        description: 'The default namespace, the only one Parley serves, at path /socket.io.',
        servers: [ref('servers/parley')],
        messages: Object.fromEntries(Object.keys(all).map(key => [key, ref(`components/messages/${key}`)]))
      }
    },
    operations: operations(),
    components: { schemas: { AckError }, messages: all, securitySchemes: SECURITY_SCHEMES }
  }
}
