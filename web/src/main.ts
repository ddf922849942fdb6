/**
 * The web app's entry: signed in (tokens in this tab's sessionStorage) it opens the chat, otherwise the sign-in
 * forms; a session that ends (signed out, revoked, expired) comes back to the forms with the reason.
 */
import { ApiError, ParleyClient } from '../../client/src/index.js'
import { showAuth, type Credentials } from './auth-view.js'
import { ChatApp } from './chat-app.js'
import { fill, h, describeError } from './dom.js'
import { claimSession } from './session-lock.js'
import { clearTokens, loadTokens, saveTokens } from './token-store.js'

const root = document.getElementById('app') as HTMLElement
let app: ChatApp | null = null

function newClient (): ParleyClient {
  const client = new ParleyClient({ url: location.origin })
  client.session.on('token', () => {
    const { accessToken, refreshToken } = client.session
    if (accessToken !== null && refreshToken !== null) saveTokens({ accessToken, refreshToken })
  })
  client.on('session_ended', ({ reason, message }) => {
    clearTokens()
    app?.dispose()
    app = null
    signedOut(reason === 'logged_out' ? '' : `Signed out: ${message}`)
  })
  return client
}

async function start (client: ParleyClient): Promise<void> {
  app = new ChatApp(root, client, () => { void client.logout() })
  ;(window as unknown as { parley: ParleyClient }).parley = client // for the curious, in the devtools console
  await app.start()
}

function signedOut (notice = ''): void {
  showAuth(root, async (credentials: Credentials) => {
    const client = newClient()
    await client.login(credentials)
    if (client.session.accessToken !== null) await claimSession(client.session.accessToken)
    await start(client)
  }, notice)
}

/** Could not start (network, server down): say so and offer to try again, keeping the tokens. */
function failed (error: unknown): void {
  fill(root, h('main', { class: 'auth' },
    h('h1', {}, 'Parley'),
    h('p', { class: 'alert', role: 'alert' }, `Could not reach the server: ${describeError(error)}`),
    h('button', { type: 'button', onclick: () => { location.reload() } }, 'Try again')))
}

async function resume (): Promise<void> {
  const saved = loadTokens()
  if (saved === null) { signedOut(); return }
  // A duplicated tab carries a copy of this session's tokens: two tabs refreshing one refresh token look stolen.
  if (!await claimSession(saved.accessToken)) {
    clearTokens()
    signedOut('This tab is a copy of another one that is signed in: sign in here separately.')
    return
  }
  const client = newClient()
  try {
    await client.useTokens(saved)
  } catch (error) {
    // Only a refusal of the tokens signs out; a network failure keeps them for the next try.
    if (error instanceof ApiError && error.status === 401) { clearTokens(); signedOut(); return }
    client.close()
    failed(error)
    return
  }
  await start(client).catch(failed)
}

void resume()
