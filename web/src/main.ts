/**
 * The web app's entry: signed in (tokens in this tab's sessionStorage) it opens the chat, otherwise the sign-in
 * forms; a session that ends (signed out, revoked, expired) comes back to the forms with the reason.
 */
import { ParleyClient } from '../../client/src/index.js'
import { showAuth, type Credentials } from './auth-view.js'
import { ChatApp } from './chat-app.js'
import { clearTokens, loadTokens, saveTokens } from './token-store.js'

const root = document.getElementById('app') as HTMLElement

function newClient (): ParleyClient {
  const client = new ParleyClient({ url: location.origin })
  client.session.on('token', () => {
    const { accessToken, refreshToken } = client.session
    if (accessToken !== null && refreshToken !== null) saveTokens({ accessToken, refreshToken })
  })
  client.on('session_ended', ({ reason, message }) => {
    clearTokens()
    signedOut(reason === 'logged_out' ? '' : `Signed out: ${message}`)
  })
  return client
}

async function start (client: ParleyClient): Promise<void> {
  const app = new ChatApp(root, client, () => { void client.logout() })
  ;(window as unknown as { parley: ParleyClient }).parley = client // for the curious, in the devtools console
  await app.start()
}

function signedOut (notice = ''): void {
  showAuth(root, async (credentials: Credentials) => {
    const client = newClient()
    await client.login(credentials)
    await start(client)
  }, notice)
}

const saved = loadTokens()
if (saved === null) {
  signedOut()
} else {
  const client = newClient()
  client.useTokens(saved).then(async () => { await start(client) }, () => { clearTokens(); signedOut() })
}
