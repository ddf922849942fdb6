/**
 * RoomNames follows the adapter's create-room and delete-room events: it answers the adapter's string for a Parley
 * room that exists here, the given name otherwise, and ignores the per-socket rooms Socket.IO names after socket ids.
 */
import { EventEmitter } from 'node:events'
import t from 'tap'
import { conversationIdsOf, conversationRoom, RoomNames, userRoom } from '../../src/realtime/rooms.js'

t.test('RoomNames holds the rooms that exist, and only Parley rooms', async t => {
  const adapter = new EventEmitter()
  const names = new RoomNames(adapter)
  const room = userRoom('a'.repeat(24))
  t.equal(names.shared(room), room, 'an unknown room: the name itself')
  adapter.emit('create-room', room)
  adapter.emit('create-room', conversationRoom('b'.repeat(24)))
  adapter.emit('create-room', 'Zx0aB1cD2eF3gH4iJ5kL')
  t.equal(names.size, 2, 'the socket-id room is not kept')
  t.equal(names.shared(userRoom('a'.repeat(24))), room)
  adapter.emit('delete-room', room)
  adapter.emit('delete-room', 'Zx0aB1cD2eF3gH4iJ5kL')
  t.equal(names.size, 1, 'a deleted room is forgotten')
  t.same(conversationIdsOf([room, conversationRoom('c1'), 'other']), ['c1'])
})
