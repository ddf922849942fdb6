/**
 * The SDK's test kit: a listening chat app (no message or socket-event rate limits unless the test sets them),
 * users in a direct conversation, and ParleyClients closed in the test's teardown. Helpers to wait on what a
 * timeline shows.
 */
import type { FastifyInstance } from 'fastify'
import { ParleyClient, type ParleyClientOptions, type TimelineMessage } from '../../client/src/index.js'
import { listen, buildAuthApp, type TeardownHost } from '../helpers/build-app.js'
import { openDirect } from '../helpers/conversations.js'
import { signUp, type TestUser } from '../helpers/users.js'
import { waitFor } from '../helpers/wait.js'

export interface ClientKit {
  app: FastifyInstance
  url: string
  /** A ParleyClient signed in with the user's tokens (or logged in afresh with `login: true`), connected. */
  client: (user: TestUser, options?: Partial<ParleyClientOptions> & { login?: boolean, connect?: boolean }) => Promise<ParleyClient>
}

export async function startClientApp (t: TeardownHost, environment: NodeJS.ProcessEnv = {}): Promise<ClientKit> {
  const app = await buildAuthApp(t, { RATE_LIMIT_MESSAGES: '0', RATE_LIMIT_SOCKET_EVENTS: '0', ...environment })
  const url = await listen(app)
  const clients: ParleyClient[] = []
  t.teardown(() => { for (const client of clients) client.close() })
  return {
    app,
    url,
    client: async (user, options = {}) => {
      const { login = false, connect = true, ...rest } = options
      const client = new ParleyClient({ url, socketOptions: { transports: ['websocket'] }, ...rest })
      clients.push(client)
      if (login) await client.login({ login: user.username, password: user.password })
      else await client.useTokens({ accessToken: user.accessToken, refreshToken: user.refreshToken })
      if (connect) await client.connect()
      return client
    }
  }
}

/** A client app with alice and bob in a direct conversation `id`. */
export async function directClients (t: TeardownHost, environment: NodeJS.ProcessEnv = {}): Promise<ClientKit & { alice: TestUser, bob: TestUser, id: string }> {
  const kit = await startClientApp(t, environment)
  const [alice, bob] = await Promise.all([signUp(kit.app, 'alice'), signUp(kit.app, 'bob')])
  return { ...kit, alice, bob, id: await openDirect(kit.app, alice, bob) }
}

export const stored = (messages: TimelineMessage[]): Array<TimelineMessage & { status: 'stored' }> =>
  messages.filter((m): m is TimelineMessage & { status: 'stored' } => m.status === 'stored')

/** Waits until the conversation shows `count` stored messages (and nothing pending) on the client. */
export async function waitForStored (client: ParleyClient, conversationId: string, count: number, timeoutMs = 15_000): Promise<void> {
  await waitFor(() => {
    const messages = client.messages(conversationId)
    return stored(messages).length >= count && messages.every(m => m.status === 'stored')
  }, timeoutMs, `${count} stored messages (have ${stored(client.messages(conversationId)).length})`)
}

/** Whether the messages are seq 1..n, each once, in order. */
export function gapless (messages: TimelineMessage[]): boolean {
  return stored(messages).every((m, i) => m.seq === i + 1)
}
