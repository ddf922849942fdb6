/** One message of the timeline as a list item: sender, body or attachments, time, edited mark, ticks and actions. */
import type { Attachment, TimelineMessage } from '../../client/src/index.js'
import { fill, h, shortTime } from './dom.js'


export type Tick = 'sent' | 'delivered' | 'read'

export interface MessageContext {
  me: string
  isGroup: boolean
  nameOf: (userId: string) => string
  tick: (seq: number) => Tick
  preview: (img: HTMLImageElement, attachment: Attachment) => void
  download: (attachment: Attachment) => void
  edit: (messageId: string, body: string) => Promise<void>
  remove: (messageId: string) => Promise<void>
  retry: (clientMsgId: string) => void
  discard: (clientMsgId: string) => void
}

/** What a message's element depends on: it is rebuilt only when this changes. */
export function signature (message: TimelineMessage, context: MessageContext): string {
  if (message.status !== 'stored') return `${message.status}|${message.error?.code ?? ''}`
  return `${message.editedAt ?? ''}|${message.deletedAt ?? ''}|${message.body.length}|${message.body.slice(0, 64)}`
}

/** Shows a tick state on a message element (in place: a receipt changes no other part of it). */
export function setTick (item: HTMLElement, tick: Tick): void {
  const span = item.querySelector('.tick')
  if (span === null || span.getAttribute('data-tick') === tick) return
  span.className = `tick ${tick}`
  span.setAttribute('data-tick', tick)
  span.setAttribute('title', TICK_LABEL[tick])
  fill(span, ` ${TICK_MARK[tick]}`, h('span', { class: 'visually-hidden' }, ` ${TICK_LABEL[tick]}`))
}

const TICK_LABEL: Record<Tick, string> = { sent: 'Sent', delivered: 'Delivered', read: 'Read' }
const TICK_MARK: Record<Tick, string> = { sent: '✓', delivered: '✓✓', read: '✓✓' }

export function messageView (message: TimelineMessage, context: MessageContext): HTMLLIElement {
  const own = message.senderId === context.me
  const item = h('li', { class: `message${own ? ' own' : ''} ${message.status}` })
  if (message.status !== 'stored') {
    const file = (message as { file?: { name: string } }).file
    item.append(
      h('p', { class: 'body' }, file !== undefined ? `File: ${file.name}${message.body !== '' ? ` ${message.body}` : ''}` : message.body),
      message.status === 'pending'
        ? h('p', { class: 'meta' }, h('span', { class: 'sending' }, file !== undefined ? 'uploading…' : 'sending…'))
        : h('p', { class: 'meta failed-note' }, `Not sent (${message.error?.code ?? 'error'}) `,
          h('button', { type: 'button', class: 'link', onclick: () => { context.retry(message.clientMsgId) } }, 'Retry'), ' ',
          h('button', { type: 'button', class: 'link', onclick: () => { context.discard(message.clientMsgId) } }, 'Discard')))
    return item
  }
  item.dataset.seq = String(message.seq)
  item.dataset.id = message.id
  if (context.isGroup && !own) item.append(h('p', { class: 'sender' }, context.nameOf(message.senderId)))
  if (message.deletedAt !== null) {
    item.classList.add('deleted')
    item.append(h('p', { class: 'body' }, 'Message deleted'))
  } else {
    if (message.body !== '') item.append(h('p', { class: 'body' }, message.body))
    for (const attachment of message.attachments) item.append(attachmentView(attachment, context))
  }
  item.append(h('p', { class: 'meta' },
    h('time', { datetime: message.createdAt }, shortTime(message.createdAt)),
    message.editedAt !== null && message.deletedAt === null ? ' · edited' : '',
    own ? h('span', { class: 'tick' }) : null))
  if (own) setTick(item, context.tick(message.seq))
  if (own && message.deletedAt === null) item.append(actions(item, message.id, message.body, context))
  return item
}

function attachmentView (attachment: Attachment, context: MessageContext): HTMLElement {
  const download = h('button', { type: 'button', class: 'link', onclick: () => { context.download(attachment) } }, `Download ${attachment.name} (${attachment.sizeLabel})`)
  if (!attachment.mimeType.startsWith('image/')) return h('p', { class: 'file' }, download)
  const image = h('img', { class: 'preview', alt: attachment.name })
  context.preview(image, attachment)
  return h('figure', { class: 'file' }, image, h('figcaption', {}, download))
}

/** Edit (inline: Enter saves, Shift+Enter is a new line, Escape cancels) and delete (asks once more) for our own messages. */
function actions (item: HTMLLIElement, messageId: string, body: string, context: MessageContext): HTMLElement {
  const remove = h('button', { type: 'button', class: 'link', 'aria-label': 'Delete message' }, 'Delete')
  remove.addEventListener('click', () => {
    if (remove.dataset.confirm === 'yes') { void context.remove(messageId); return }
    remove.dataset.confirm = 'yes'
    remove.textContent = 'Confirm delete'
    remove.setAttribute('aria-label', 'Confirm delete')
  })
  const edit = h('button', { type: 'button', class: 'link', 'aria-label': 'Edit message' }, 'Edit')
  edit.addEventListener('click', () => {
    const bodyNode = item.querySelector('.body') as HTMLElement
    const input = h('textarea', { 'aria-label': 'Edit message text', class: 'edit-input', rows: Math.min(6, body.split('\n').length) })
    input.value = body // a textarea keeps line breaks (an <input> would drop them)
    const form = h('form', { class: 'edit' }, input, h('button', { type: 'submit' }, 'Save'))
    const done = (): void => { form.replaceWith(bodyNode); edit.focus() }
    form.addEventListener('submit', event => {
      event.preventDefault()
      if (input.value.trim() !== '' && input.value !== body) void context.edit(messageId, input.value)
      done()
    })
    input.addEventListener('keydown', event => {
      if (event.key === 'Escape') done()
      else if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) { event.preventDefault(); form.requestSubmit() }
    })
    bodyNode.replaceWith(form)
    input.focus()
  })
  return h('p', { class: 'actions' }, body !== '' ? edit : null, ' ', remove)
}
