/** One message of the timeline as a list item: sender, body or attachments, time, edited mark, ticks and actions. */
import type { TimelineMessage } from '../../client/src/index.js'
import { h, shortTime } from './dom.js'

type Attachment = { id: string, name: string, mimeType: string, sizeLabel: string }
export type Tick = 'sent' | 'delivered' | 'read'

export interface MessageContext {
  me: string
  isGroup: boolean
  nameOf: (userId: string) => string
  tick: (seq: number) => Tick
  imageUrl: (attachment: Attachment) => Promise<string>
  download: (attachment: Attachment) => void
  edit: (messageId: string, body: string) => Promise<void>
  remove: (messageId: string) => Promise<void>
  retry: (clientMsgId: string) => void
  discard: (clientMsgId: string) => void
}

/** What a message's element depends on: it is rebuilt only when this changes. */
export function signature (message: TimelineMessage, context: MessageContext): string {
  if (message.status !== 'stored') return `${message.status}|${message.error?.code ?? ''}`
  const tick = message.senderId === context.me ? context.tick(message.seq) : ''
  return `${message.editedAt ?? ''}|${message.deletedAt ?? ''}|${tick}|${message.body.length}|${message.body.slice(0, 64)}`
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
        ? h('p', { class: 'meta' }, h('span', { class: 'tick', 'aria-label': 'Sending' }, file !== undefined ? 'uploading…' : 'sending…'))
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
  const tick = own ? context.tick(message.seq) : null
  item.append(h('p', { class: 'meta' },
    h('time', { datetime: message.createdAt }, shortTime(message.createdAt)),
    message.editedAt !== null && message.deletedAt === null ? ' · edited' : '',
    tick !== null ? h('span', { class: `tick ${tick}`, 'aria-label': TICK_LABEL[tick], title: TICK_LABEL[tick] }, ` ${TICK_MARK[tick]}`) : null))
  if (own && message.deletedAt === null) item.append(actions(item, message.id, message.body, context))
  return item
}

function attachmentView (attachment: Attachment, context: MessageContext): HTMLElement {
  const download = h('button', { type: 'button', class: 'link', onclick: () => { context.download(attachment) } }, `Download ${attachment.name} (${attachment.sizeLabel})`)
  if (!attachment.mimeType.startsWith('image/')) return h('p', { class: 'file' }, download)
  const image = h('img', { class: 'preview', alt: attachment.name })
  void context.imageUrl(attachment).then(url => { image.src = url }, () => { image.alt = `${attachment.name} (could not load)` })
  return h('figure', { class: 'file' }, image, h('figcaption', {}, download))
}

/** Edit (inline form: Enter saves, Escape cancels) and delete (asks once more) for our own messages. */
function actions (item: HTMLLIElement, messageId: string, body: string, context: MessageContext): HTMLElement {
  const remove = h('button', { type: 'button', class: 'link', 'aria-label': 'Delete message' }, 'Delete')
  remove.addEventListener('click', () => {
    if (remove.dataset.confirm === 'yes') { void context.remove(messageId); return }
    remove.dataset.confirm = 'yes'
    remove.textContent = 'Confirm delete'
  })
  const edit = h('button', {
    type: 'button',
    class: 'link',
    'aria-label': 'Edit message',
    onclick: () => {
      const input = h('input', { type: 'text', value: body, 'aria-label': 'Edit message text', class: 'edit-input' })
      const form = h('form', { class: 'edit' }, input, h('button', { type: 'submit' }, 'Save'))
      form.addEventListener('submit', event => {
        event.preventDefault()
        if (input.value.trim() !== '' && input.value !== body) void context.edit(messageId, input.value)
        form.replaceWith(bodyNode)
      })
      input.addEventListener('keydown', event => { if (event.key === 'Escape') form.replaceWith(bodyNode) })
      const bodyNode = item.querySelector('.body') as HTMLElement
      bodyNode.replaceWith(form)
      input.focus()
    }
  }, 'Edit')
  return h('p', { class: 'actions' }, body !== '' ? edit : null, ' ', remove)
}
