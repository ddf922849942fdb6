// The web app in a real browser: an image one person attaches is previewed for the other, a file downloads with
// its bytes (and the screenshot in docs/ is taken); a group is created, people added, messages shown with their sender, and leaving updates the members.
import t from 'tap'
import { join } from 'node:path'
import { packageRoot } from '../../src/shared/package-info.js'
import { aliceAndBob, inPage, listEntry, registerInUi, sendInUi, solidPng, startWebApp, UI_WAIT_MS } from './browser-kit.js'
import { waitFor } from '../helpers/wait.js'

t.test('files and groups through the web app', async t => {
  const kit = await startWebApp(t)
  const { alice, bob } = await aliceAndBob(kit)
  await sendInUi(alice, 'a picture follows')
  await listEntry(bob, '@alice').click()

  await t.test('an image attached by alice is previewed for bob', async t => {
    await alice.locator('#composer-file').setInputFiles({ name: 'red square.png', mimeType: 'image/png', buffer: solidPng(160, 100, [220, 30, 30]) })
    const preview = bob.locator('img.preview[alt="red square.png"]')
    await preview.waitFor()
    await waitFor(async () => await preview.evaluate((img: { naturalWidth: number }) => img.naturalWidth) === 160, UI_WAIT_MS, 'the image decoded')
    t.equal(await preview.evaluate((img: { naturalHeight: number }) => img.naturalHeight), 100, 'bob\'s browser decoded the image')
    t.match(await preview.getAttribute('src'), /^blob:/, 'shown through an object URL (fetched with the token)')
    await alice.locator('img.preview[alt="red square.png"]').waitFor()
    t.pass('alice sees her own upload once it is stored')
    await sendInUi(bob, 'nice colour!')
    await alice.locator('.message.own .tick[data-tick="read"]').last().waitFor()
    // The screenshot in docs/ (README, docs/web-app.md) is this view, made by every test run.
    await alice.screenshot({ path: join(packageRoot(), 'docs', 'web-app.png') })
  })

  await t.test('a file downloads with its bytes', async t => {
    const bytes = Buffer.from('%PDF-1.7\nsome report\n', 'latin1')
    await alice.locator('#composer-file').setInputFiles({ name: 'report.pdf', mimeType: 'application/pdf', buffer: bytes })
    const link = bob.getByRole('button', { name: /Download report\.pdf/ })
    await link.waitFor()
    const [download] = await Promise.all([bob.waitForEvent('download'), link.click()])
    t.equal(download.suggestedFilename(), 'report.pdf')
    const path = await download.path()
    const { readFile } = await import('node:fs/promises')
    t.same(await readFile(path), bytes, 'the same bytes')
  })

  await t.test('a group: create, add people, talk, leave', async t => {
    const { page: carol } = await kit.page()
    await registerInUi(carol, 'carol')
    await alice.getByRole('button', { name: 'New group' }).click()
    const dialog = alice.getByRole('dialog', { name: 'New group' })
    await dialog.getByLabel('Group name').fill('Team')
    for (const name of ['bob', 'carol']) {
      await dialog.getByRole('searchbox', { name: 'Add people' }).fill(name)
      await dialog.locator('.search-results button', { hasText: `@${name}` }).click()
    }
    t.equal(await dialog.locator('.chips li').count(), 2, 'two people chosen')
    await dialog.getByRole('button', { name: 'Create group' }).click()
    await alice.locator('.pane-header h2', { hasText: 'Team' }).waitFor()
    await sendInUi(alice, 'hello team')
    for (const page of [bob, carol]) await listEntry(page, 'Team').locator('.badge', { hasText: '1' }).waitFor()
    t.pass('bob and carol see the group with one unread message')
    await listEntry(carol, 'Team').click()
    const message = carol.locator('.log .message', { hasText: 'hello team' })
    await message.waitFor()
    t.equal(await message.locator('.sender').textContent(), 'alice', 'group messages name their sender')
    await carol.locator('.members summary').click()
    await carol.getByRole('button', { name: 'Leave group' }).click()
    await listEntry(carol, 'Team').waitFor({ state: 'detached' })
    t.pass('the group is gone from carol\'s list')
    await alice.locator('.members summary', { hasText: '2 members' }).waitFor()
    t.pass('alice sees two members left')

    // The owner deletes the group while bob has it open: his page closes it and says why.
    await listEntry(bob, 'Team').click()
    await bob.locator('.pane-header h2', { hasText: 'Team' }).waitFor()
    const token = await inPage.accessToken(alice)
    const groupId = await alice.evaluate('window.parley.conversations.list().find(c => c.name === "Team").id') as string
    t.equal((await fetch(`${kit.url}/api/conversations/${groupId}`, { method: 'DELETE', headers: { authorization: `Bearer ${token}` } })).status, 204)
    await bob.getByRole('alert').filter({ hasText: 'no longer available' }).waitFor()
    t.equal(await bob.locator('.pane-header').count(), 0, 'bob\'s page closed the deleted group')
    t.equal(await listEntry(bob, 'Team').count(), 0)
  })
})
