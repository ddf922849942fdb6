/**
 * presence_query answers only about users who share a conversation with the asker (and the asker); anyone else
 * looks offline with no lastSeenAt, exactly as a stranger looks in the pushes.
 */
import t from 'tap'
import { openDirect } from '../../helpers/conversations.js'
import { emitOk, startRealtimeApp } from '../../helpers/realtime.js'
import { signUp } from '../../helpers/users.js'
import { waitFor } from '../../helpers/wait.js'

t.test('strangers look offline; contacts and the asker are answered', async t => {
  const kit = await startRealtimeApp(t)
  const [alice, bob, carol] = await Promise.all([signUp(kit.app, 'alice'), signUp(kit.app, 'bob'), signUp(kit.app, 'carol')])
  await openDirect(kit.app, alice, bob)
  const bobSocket = await kit.connect(bob.accessToken)
  await kit.connect(alice.accessToken)
  await kit.connect(carol.accessToken)
  const answer = await emitOk(bobSocket, 'presence_query', { userIds: [alice.id, carol.id, bob.id] })
  t.same(answer[alice.id], { online: true, lastSeenAt: null }, 'a contact is answered')
  t.same(answer[bob.id], { online: true, lastSeenAt: null }, 'the asker is answered')
  t.same(answer[carol.id], { online: false, lastSeenAt: null }, 'a stranger looks offline, though connected')
  t.same(Object.keys(answer).sort(), [alice.id, bob.id, carol.id].sort(), 'every asked id is answered')
})

t.test('public profiles and user search show presence to contacts only; deleted accounts show none', async t => {
  const kit = await startRealtimeApp(t)
  const [alice, bob, carol] = await Promise.all([signUp(kit.app, 'alice'), signUp(kit.app, 'bob'), signUp(kit.app, 'carol')])
  await openDirect(kit.app, alice, bob)
  const aliceSocket = await kit.connect(alice.accessToken)
  const as = (user: { accessToken: string }) => async (url: string) =>
    (await kit.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${user.accessToken}` } })).json()
  t.match(await as(bob)(`/api/users/${alice.id}`), { online: true }, 'a contact sees alice online')
  t.match(await as(carol)(`/api/users/${alice.id}`), { online: false, lastSeenAt: null }, 'a stranger does not')
  const found = (await as(carol)(`/api/users?search=${alice.username.slice(0, 6)}`)).items.find((u: { id: string }) => u.id === alice.id)
  t.match(found, { online: false, lastSeenAt: null }, 'nor through search')
  t.match((await as(bob)(`/api/users?search=${alice.username.slice(0, 6)}`)).items.find((u: { id: string }) => u.id === alice.id), { online: true })

  aliceSocket.disconnect()
  await waitFor(async () => (await as(bob)(`/api/users/${alice.id}`)).lastSeenAt !== null, 5000, 'lastSeenAt stored')
  t.match(await as(carol)(`/api/users/${alice.id}`), { lastSeenAt: null }, 'a stranger never learns when she was last seen')
  const deleted = await kit.app.inject({ method: 'DELETE', url: '/api/users/me', headers: { authorization: `Bearer ${alice.accessToken}` }, payload: { password: alice.password } })
  t.equal(deleted.statusCode, 204)
  t.match(await as(bob)(`/api/users/${alice.id}`), { deleted: true, online: false, lastSeenAt: null }, 'a deleted account shows no last-seen time')
})
