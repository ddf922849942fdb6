/**
 * The web app's test kit: builds web/ into a directory of its own, serves it from a listening Parley app, and
 * drives Debian's Chromium through playwright-core (no browser download: scripts/ensure-test-tools.sh installs
 * `chromium`). Pages sign up, find people and chat through the UI only, as a newcomer would.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core'
import type { FastifyInstance } from 'fastify'
import { buildWeb } from '../../scripts/build-web.js'
import { buildAuthApp, listen, type TeardownHost } from '../helpers/build-app.js'

export const CHROMIUM = '/usr/bin/chromium'
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run']
/** UI waits: generous, a loaded 2-core machine runs two test files and a browser at once. */
export const UI_WAIT_MS = 15_000

export interface WebKit {
  app: FastifyInstance
  url: string
  browser: Browser
  /** A fresh browser context (its own storage, like another person's browser) on the app's page. */
  page: () => Promise<{ context: BrowserContext, page: Page }>
}

export async function startWebApp (t: TeardownHost, environment: NodeJS.ProcessEnv = {}): Promise<WebKit> {
  const root = await mkdtemp(join(tmpdir(), 'parley-web-'))
  t.teardown(async () => { await rm(root, { recursive: true, force: true }) })
  await buildWeb(root)
  const app = await buildAuthApp(t, { RATE_LIMIT_REGISTER: '0', RATE_LIMIT_MESSAGES: '0', RATE_LIMIT_SOCKET_EVENTS: '0', ...environment }, { build: { webApp: { root } } })
  const url = await listen(app)
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true })
  t.teardown(async () => { await browser.close() })
  return {
    app,
    url,
    browser,
    page: async () => {
      const context = await browser.newContext({ viewport: { width: 1100, height: 720 } })
      context.setDefaultTimeout(UI_WAIT_MS)
      const page = await context.newPage()
      page.on('pageerror', error => { console.error('page error:', error) })
      page.on('console', message => { if (message.type() === 'error') console.error('page console:', message.text()) })
      await page.goto(url)
      return { context, page }
    }
  }
}

/** Registers through the "Create an account" form, which signs in; resolves when the chat shows online. */
export async function registerInUi (page: Page, username: string, password = 'correct horse battery'): Promise<void> {
  const form = page.locator('form', { has: page.getByRole('heading', { name: 'Create an account' }) })
  await form.getByLabel('Username').fill(username)
  await form.getByLabel('Email').fill(`${username}@example.com`)
  await form.getByLabel('Password').fill(password)
  await form.getByRole('button', { name: 'Create account' }).click()
  await page.getByRole('status').filter({ hasText: 'Online' }).waitFor()
}

/** Alice and Bob, each in a browser context of their own, signed up; Alice has opened her chat with Bob. */
export async function aliceAndBob (kit: WebKit): Promise<{ alice: Page, bob: Page, bobContext: BrowserContext }> {
  const { page: alice } = await kit.page()
  const { context: bobContext, page: bob } = await kit.page()
  await registerInUi(alice, 'alice')
  await registerInUi(bob, 'bob')
  await openChatWith(alice, 'bob')
  return { alice, bob, bobContext }
}

/** Finds a person with the sidebar search and opens the direct conversation. */
export async function openChatWith (page: Page, username: string): Promise<void> {
  await page.getByRole('searchbox', { name: 'Find people' }).fill(username)
  await page.locator('.search-results button', { hasText: `@${username}` }).click()
  await page.locator('.pane-header h2', { hasText: `@${username}` }).waitFor()
}

/** Types a message and presses Enter. */
export async function sendInUi (page: Page, text: string): Promise<void> {
  await page.getByLabel('Message', { exact: true }).fill(text)
  await page.getByLabel('Message', { exact: true }).press('Enter')
}

/** The bodies the log shows, in order. */
export async function shownBodies (page: Page): Promise<string[]> {
  return await page.locator('.log .message .body').allTextContents()
}

/** The conversation list's entry naming `title`. */
export function listEntry (page: Page, title: string): ReturnType<Page['locator']> {
  return page.locator('.conversation-item', { hasText: title })
}

export { solidPng } from '../../scripts/solid-png.js'

/**
 * What the page's ParleyClient (`window.parley`) holds. Expressions are strings: the test files compile without
 * the DOM library, the browser evaluates them.
 */
export const inPage = {
  accessToken: async (page: Page): Promise<string> => await page.evaluate('window.parley.session.accessToken') as string,
  firstConversationId: async (page: Page): Promise<string> => await page.evaluate('window.parley.conversations.list()[0].id') as string,
  socketId: async (page: Page): Promise<string> => await page.evaluate('window.parley.socket.id') as string,
  /** Closes the socket's transport (socket.io-client reconnects by itself). */
  cutTransport: async (page: Page): Promise<void> => { await page.evaluate('window.parley.socket.io.engine.close()') },
  /** Replaces the access token the tab keeps for its next load (the refresh token stays). */
  storeAccessToken: async (page: Page, token: string): Promise<void> => {
    await page.evaluate(`(() => {
      const saved = JSON.parse(sessionStorage.getItem('parley.tokens'))
      sessionStorage.setItem('parley.tokens', JSON.stringify({ accessToken: ${JSON.stringify(token)}, refreshToken: saved.refreshToken }))
    })()`)
  }
}
