// The web app in a real browser when things go wrong: the network of one browser is cut and restored while both
// people send (nothing lost, nothing doubled, the state is shown), and access tokens that expire every few
// seconds are refreshed without the user noticing, also after a reload with an expired one.
import t from 'tap'
import { aliceAndBob, inPage, listEntry, sendInUi, shownBodies, startWebApp, UI_WAIT_MS } from './browser-kit.js'
import { waitFor } from '../helpers/wait.js'
import type { Page } from 'playwright-core'

async function storedBodies (url: string, page: Page): Promise<string[]> {
  const [token, id] = [await inPage.accessToken(page), await inPage.firstConversationId(page)]
  const res = await fetch(`${url}/api/conversations/${id}/messages?limit=200`, { headers: { authorization: `Bearer ${token}` } })
  return ((await res.json()) as { items: Array<{ body: string }> }).items.map(message => message.body)
}

t.test('a cut network loses and doubles nothing', async t => {
  const kit = await startWebApp(t)
  const { alice, bob, bobContext } = await aliceAndBob(kit)
  await sendInUi(alice, 'before the cut')
  await listEntry(bob, '@alice').click()
  await bob.locator('.log .message .body', { hasText: 'before the cut' }).waitFor()

  await bobContext.setOffline(true)
  // Offline emulation stops new connections; the open WebSocket would only be noticed at the next ping timeout.
  await inPage.cutTransport(bob)
  await bob.locator('[role="status"][data-state="offline"]').waitFor()
  t.match(await bob.getByRole('status').textContent(), /Connection lost/, 'bob sees the connection is down')
  for (const text of ['while away 1', 'while away 2', 'while away 3']) await sendInUi(alice, text)
  for (const text of ['offline reply 1', 'offline reply 2']) await sendInUi(bob, text)
  t.equal(await bob.locator('.log .message.pending').count(), 2, 'bob\'s replies wait as pending')

  await bobContext.setOffline(false)
  await bob.locator('[role="status"][data-state="online"]').waitFor({ timeout: 30_000 })
  const expected = ['before the cut', 'while away 1', 'while away 2', 'while away 3', 'offline reply 1', 'offline reply 2']
  await waitFor(async () => (await shownBodies(alice)).length === 6 && (await shownBodies(bob)).length === 6 && await bob.locator('.log .message.pending').count() === 0, UI_WAIT_MS, 'both pages to show six messages')
  const stored = await storedBodies(kit.url, alice)
  t.same([...stored].sort(), [...expected].sort(), 'the server stored each message once')
  t.same(await shownBodies(alice), stored, 'alice sees what was stored, in seq order')
  t.same(await shownBodies(bob), stored, 'bob sees what was stored, in seq order')

  // "Duplicate tab" copies sessionStorage: the copy must not share (and so double-refresh) bob's session.
  const copy = await bobContext.newPage()
  await copy.goto(kit.url)
  const tokens = await bob.evaluate('sessionStorage.getItem("parley.tokens")') as string
  await copy.evaluate(`sessionStorage.setItem('parley.tokens', ${JSON.stringify(tokens)})`)
  await copy.reload()
  await copy.getByRole('alert').filter({ hasText: 'copy of another one' }).waitFor()
  t.equal(await copy.getByRole('heading', { name: 'Sign in' }).count(), 1, 'the copy asks to sign in separately')
  t.equal(await copy.evaluate('sessionStorage.getItem("parley.tokens")'), null, 'and dropped the copied tokens')
  await sendInUi(alice, 'after the copy')
  await bob.locator('.log .message .body', { hasText: 'after the copy' }).waitFor()
  t.pass('bob\'s own tab is still signed in')
})

t.test('expiring access tokens are refreshed without the user noticing', async t => {
  const kit = await startWebApp(t, { ACCESS_TOKEN_TTL: '3s' })
  const { alice, bob } = await aliceAndBob(kit)
  const socketId = await inPage.socketId(alice)
  const firstToken = await inPage.accessToken(bob)
  await sendInUi(alice, 'first')
  await new Promise(resolve => setTimeout(resolve, 7000)) // two lifetimes and more: every token of the start has expired
  await sendInUi(alice, 'after expiry')
  await listEntry(bob, '@alice').click()
  await bob.locator('.log .message .body', { hasText: 'after expiry' }).waitFor()
  t.equal(await inPage.socketId(alice), socketId, 'alice\'s socket stayed up (auth_refresh)')
  t.equal(await alice.getByRole('heading', { name: 'Sign in' }).count(), 0, 'nobody was sent back to the sign-in form')

  // Bob's tab slept: its stored access token is long expired when the page loads again.
  await inPage.storeAccessToken(bob, firstToken)
  await bob.reload()
  await bob.locator('[role="status"][data-state="online"]').waitFor()
  await listEntry(bob, '@alice').click()
  t.same(await waitForBodies(bob, 2), ['first', 'after expiry'], 'signed in still, with the history')
})

async function waitForBodies (page: Page, count: number): Promise<string[]> {
  await waitFor(async () => (await shownBodies(page)).length === count, UI_WAIT_MS, `${count} messages`)
  return await shownBodies(page)
}
