/**
 * presence_query answers only about users who share a conversation with the asker (and the asker); anyone else
 * looks offline with no lastSeenAt, exactly as a stranger looks in the pushes.
 */
import t from 'tap'
import { openDirect } from '../../helpers/conversations.js'
import { emitOk, startRealtimeApp } from '../../helpers/realtime.js'
import { signUp } from '../../helpers/users.js'

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
