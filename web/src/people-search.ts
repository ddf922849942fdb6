/** A search box for people (GET /api/users?search=): results are buttons, `pick` gets the chosen user. */
import type { ParleyClient } from '../../client/src/index.js'
import { fill, h } from './dom.js'
import { displayName } from './names.js'

type User = Awaited<ReturnType<ParleyClient['searchUsers']>>[number]

export function peopleSearch (client: ParleyClient, label: string, pick: (user: User) => void): HTMLElement {
  const id = `search-${Math.random().toString(36).slice(2, 8)}`
  const input = h('input', { id, type: 'search', autocomplete: 'off', placeholder: 'username or name' })
  const results = h('ul', { class: 'search-results', 'aria-label': `Results for ${label.toLowerCase()}` })
  let timer: ReturnType<typeof setTimeout> | undefined
  let asked = 0
  input.addEventListener('input', () => {
    clearTimeout(timer)
    timer = setTimeout(() => { void run() }, 200)
  })
  const run = async (): Promise<void> => {
    const search = input.value.trim()
    const ticket = ++asked
    if (search === '') { fill(results); return }
    const users = await client.searchUsers(search, 10).catch(() => [])
    if (ticket !== asked) return
    const others = users.filter(user => user.id !== client.userId)
    fill(results, ...(others.length > 0
      ? others.map(user => h('li', {}, h('button', { type: 'button', class: 'person', onclick: () => { pick(user); input.value = ''; fill(results) } },
        h('span', { class: `dot${user.online ? ' online' : ''}`, 'aria-hidden': 'true' }), displayName(user))))
      : [h('li', { class: 'empty' }, 'Nobody found')]))
  }
  return h('div', { class: 'people-search' }, h('label', { for: id }, label), input, results)
}
