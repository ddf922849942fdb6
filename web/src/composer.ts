/** The message box: Enter sends (Shift+Enter is a new line), typing is announced (throttled by the SDK), files attach. */
import type { ParleyClient } from '../../client/src/index.js'
import { h } from './dom.js'

/** The server's default MESSAGE_MAX_BYTES: a longer text would only come back refused (PAYLOAD_TOO_LARGE). */
const MAX_BODY_BYTES = 16_384
const encoder = new TextEncoder()

export function composer (client: ParleyClient, conversationId: string, onError: (message: string) => void): HTMLFormElement {
  const text = h('textarea', { id: 'composer-text', name: 'body', rows: 1, placeholder: 'Write a message' })
  const file = h('input', { id: 'composer-file', type: 'file', class: 'visually-hidden' })
  const form = h('form', { class: 'composer' },
    h('label', { for: 'composer-file', class: 'attach', title: 'Attach a file' }, 'Attach', h('span', { class: 'visually-hidden' }, ' a file')),
    file,
    h('label', { for: 'composer-text', class: 'visually-hidden' }, 'Message'),
    text,
    h('button', { type: 'submit' }, 'Send'))
  const send = (): void => {
    const body = text.value
    if (body.trim() === '') return
    const bytes = encoder.encode(body).length
    if (bytes > MAX_BODY_BYTES) { onError(`The message is too long: ${bytes} bytes, at most ${MAX_BODY_BYTES}. Send it in parts.`); return }
    client.send(conversationId, body)
    client.extras.stopTyping(conversationId)
    text.value = ''
  }
  form.addEventListener('submit', event => { event.preventDefault(); send() })
  text.addEventListener('keydown', event => {
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) { event.preventDefault(); send() }
  })
  text.addEventListener('input', () => { if (text.value !== '') client.extras.typing(conversationId) })
  file.addEventListener('change', () => {
    const chosen = file.files?.[0]
    file.value = ''
    if (chosen === undefined) return
    try {
      client.sendFile(conversationId, chosen, { name: chosen.name })
    } catch (error) {
      onError(error instanceof Error ? error.message : String(error))
    }
  })
  return form
}
