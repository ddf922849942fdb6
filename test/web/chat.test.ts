// The web app in a real browser: two people (two browser contexts) sign up, find each other and chat both ways;
// unread badge, read ticks, typing, presence, edit and delete move for the other side; history loads on scroll.
import t from 'tap'
import { aliceAndBob, inPage, listEntry, sendInUi, shownBodies, startWebApp, UI_WAIT_MS } from './browser-kit.js'
import { waitFor } from '../helpers/wait.js'

t.test('two browsers chat through the web app', async t => {
  const kit = await startWebApp(t)
  const { alice, bob, bobContext } = await aliceAndBob(kit)
  await t.test('alice to bob: unread badge, then read ticks', async t => {
    await sendInUi(alice, 'hello bob')
    await alice.locator('.message.own .tick[data-tick="sent"], .message.own .tick[data-tick="delivered"]').first().waitFor()
    const entry = listEntry(bob, '@alice')
    await entry.locator('.badge', { hasText: '1' }).waitFor()
    t.equal(await entry.locator('.snippet').textContent(), 'hello bob', 'the list shows the last message')
    t.equal(await entry.locator('.badge').getAttribute('aria-label'), '1 unread')
    await entry.click()
    await bob.locator('.log .message .body', { hasText: 'hello bob' }).waitFor()
    await entry.locator('.badge').waitFor({ state: 'detached' })
    t.pass('the badge is gone once bob opened the conversation')
    await alice.locator('.message.own .tick[data-tick="read"]').waitFor()
    t.match(await alice.locator('.message.own .tick').textContent(), /Read$/, 'alice sees her message read (and a screen reader says so)')
  })

  await t.test('bob to alice, with typing and presence', async t => {
    t.equal(await alice.locator('.pane-header .presence').textContent(), 'online', 'alice sees bob online')
    await bob.getByLabel('Message', { exact: true }).pressSequentially('hi al', { delay: 20 })
    await alice.locator('.typing', { hasText: 'bob is typing' }).waitFor()
    t.pass('alice sees bob typing')
    await bob.getByLabel('Message', { exact: true }).press('Enter')
    await alice.locator('.log .message:not(.own) .body', { hasText: 'hi al' }).waitFor()
    await alice.locator('.typing', { hasText: 'typing' }).waitFor({ state: 'detached' }).catch(() => {})
    t.equal((await alice.locator('.typing').textContent()) ?? '', '', 'the message ends the typing line')
    t.same(await shownBodies(alice), ['hello bob', 'hi al'])
    t.same(await shownBodies(bob), ['hello bob', 'hi al'])
  })

  await t.test('edit and delete reach the other side', async t => {
    const mine = alice.locator('.message.own', { hasText: 'hello bob' })
    await mine.hover()
    await mine.getByRole('button', { name: 'Edit message' }).click()
    await alice.getByLabel('Edit message text').fill('hello bob (edited)')
    await alice.getByLabel('Edit message text').press('Enter')
    await bob.locator('.message', { hasText: 'hello bob (edited)' }).locator('.meta', { hasText: 'edited' }).waitFor()
    t.pass('bob sees the edit')
    const edited = alice.locator('.message.own', { hasText: 'hello bob (edited)' })
    await edited.hover()
    await edited.getByRole('button', { name: 'Delete message' }).click()
    await edited.getByRole('button', { name: 'Confirm delete' }).click()
    await bob.locator('.message.deleted .body', { hasText: 'Message deleted' }).waitFor()
    t.same(await shownBodies(bob), ['Message deleted', 'hi al'], 'the deleted message keeps its place')
  })

  await t.test('a multi-line message keeps its lines through an edit; ticks come back after a reload', async t => {
    const box = alice.getByLabel('Message', { exact: true })
    await box.fill('line one')
    await box.press('Shift+Enter')
    await box.pressSequentially('line two')
    await box.press('Enter')
    const mine = alice.locator('.message.own', { hasText: 'line two' })
    await mine.waitFor()
    await mine.hover()
    await mine.getByRole('button', { name: 'Edit message' }).click()
    const edit = alice.getByLabel('Edit message text')
    await edit.press('End')
    await edit.press('Shift+Enter')
    await edit.pressSequentially('line three')
    await edit.press('Enter')
    const onBob = bob.locator('.message', { hasText: 'line three' })
    await onBob.locator('.meta', { hasText: 'edited' }).waitFor()
    t.equal(await onBob.locator('.body').innerText(), 'line one\nline two\nline three', 'the line breaks survive the edit')
    await bob.locator('.message', { hasText: 'line three' }).waitFor()

    // Bob has read everything; alice's reloaded page learns it from the server, not from live events.
    await alice.reload()
    await listEntry(alice, '@bob').click()
    await alice.locator('.message.own', { hasText: 'line three' }).waitFor()
    await waitFor(async () => await alice.locator('.message.own .tick[data-tick="read"]').count() === await alice.locator('.message.own:not(.deleted) .tick, .message.own.deleted .tick').count(), UI_WAIT_MS, 'every own message read')
    t.pass('every one of alice\'s messages shows read after the reload')
  })

  await t.test('history loads as bob scrolls up', async t => {
    const { url } = kit
    // 80 more messages from alice through the API while bob's page is open: his client confirms them delivered,
    // so after a reload sync brings nothing and the first page is the latest 50 (REST history).
    const token = await inPage.accessToken(alice)
    const conversationId = await inPage.firstConversationId(alice)
    const earlier = await shownBodies(bob)
    const total = earlier.length + 80
    for (let i = 1; i <= 80; i++) {
      const res = await fetch(`${url}/api/conversations/${conversationId}/messages`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ body: `older ${i}` }) })
      t.equal(res.status, 201)
    }
    const bobToken = await inPage.accessToken(bob)
    await waitFor(async () => {
      const res = await fetch(`${url}/api/conversations/${conversationId}`, { headers: { authorization: `Bearer ${bobToken}` } })
      return ((await res.json()) as { deliveredSeq: number }).deliveredSeq === total
    }, UI_WAIT_MS, 'bob\'s delivered mark at the last message')
    await bob.reload()
    await listEntry(bob, '@alice').click()
    await bob.locator('.log .message .body', { hasText: 'older 80' }).waitFor()
    t.equal(await bob.locator('.log .message').count(), 50, 'the first page')
    await waitFor(async () => {
      await bob.locator('.log').evaluate((log: { scrollTop: number }) => { log.scrollTop = 0 })
      return await bob.locator('.log .message').count() === total
    }, UI_WAIT_MS, 'the whole history')
    const bodies = await shownBodies(bob)
    t.same(bodies.slice(0, earlier.length), earlier, 'the oldest messages at the top')
    t.same(bodies.slice(earlier.length), Array.from({ length: 80 }, (_, i) => `older ${i + 1}`), 'then the rest, once each, in order')
  })

  await t.test('on a phone-sized screen: the list, then the conversation with a way back', async t => {
    const context = await kit.browser.newContext({ viewport: { width: 380, height: 700 } })
    t.teardown(async () => { await context.close() })
    const phone = await context.newPage()
    await phone.goto(kit.url)
    const form = phone.locator('form', { has: phone.getByRole('heading', { name: 'Sign in' }) })
    await form.getByLabel('Username or email').fill('alice')
    await form.getByLabel('Password').fill('correct horse battery')
    await form.getByRole('button', { name: 'Sign in' }).click()
    await listEntry(phone, '@bob').click()
    await phone.locator('.log .message .body', { hasText: 'older 80' }).waitFor()
    t.equal(await phone.locator('.sidebar').isVisible(), false, 'the conversation takes the screen')
    await phone.getByRole('button', { name: 'Back to conversations' }).click()
    t.equal(await phone.locator('.sidebar').isVisible(), true, 'back to the list')
  })

  await t.test('bob leaves: alice sees him offline with his last seen time', async t => {
    await bobContext.close()
    await alice.locator('.pane-header .presence', { hasText: /^last seen/ }).waitFor()
    t.equal(await listEntry(alice, '@bob').locator('.dot').getAttribute('aria-label'), 'offline')
  })
})
