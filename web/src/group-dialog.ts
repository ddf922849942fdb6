/**
 * A modal dialog (<dialog>, so focus and Escape are the browser's) to pick people: with a name field it creates a
 * group, without one it adds people to a group.
 */
import type { ParleyClient } from '../../client/src/index.js'
import { describeError, fill, h } from './dom.js'
import { peopleSearch } from './people-search.js'
import { displayName } from './names.js'

export interface PickOptions {
  title: string
  action: string
  withName: boolean
  submit: (picked: { name: string, userIds: string[] }) => Promise<void>
}

export function openPeopleDialog (client: ParleyClient, options: PickOptions): void {
  const picked = new Map<string, string>()
  const chosen = h('ul', { class: 'chips', 'aria-label': 'Chosen people' })
  const alert = h('p', { class: 'alert', role: 'alert' })
  const showChosen = (): void => {
    fill(chosen, ...[...picked].map(([id, name]) => h('li', {}, name, ' ',
      h('button', { type: 'button', class: 'link', 'aria-label': `Remove ${name}`, onclick: () => { picked.delete(id); showChosen() } }, '×'))))
  }
  const name = h('input', { id: 'group-name', name: 'name', required: true, maxlength: 100 })
  const submit = h('button', { type: 'submit' }, options.action)
  const form = h('form', { method: 'dialog' },
    h('h2', {}, options.title),
    options.withName ? h('div', { class: 'field' }, h('label', { for: 'group-name' }, 'Group name'), name) : null,
    peopleSearch(client, 'Add people', user => { picked.set(user.id, displayName(user)); showChosen() }),
    chosen,
    alert,
    h('p', { class: 'buttons' },
      h('button', { type: 'button', class: 'secondary', onclick: () => { dialog.close() } }, 'Cancel'),
      submit))
  const dialog = h('dialog', { 'aria-label': options.title }, form)
  // Closed by Cancel, Escape or success: gone from the page, and the focus back where it was.
  const opener = document.activeElement as HTMLElement | null
  dialog.addEventListener('close', () => { dialog.remove(); if (opener?.isConnected === true) opener.focus() })
  form.addEventListener('submit', event => {
    event.preventDefault()
    if (!options.withName && picked.size === 0) { alert.textContent = 'Choose at least one person'; return }
    submit.disabled = true // one click, one group
    void options.submit({ name: name.value.trim(), userIds: [...picked.keys()] })
      .then(() => { dialog.close() }, error => { alert.textContent = describeError(error); submit.disabled = false })
  })
  document.body.append(dialog)
  dialog.showModal()
}
