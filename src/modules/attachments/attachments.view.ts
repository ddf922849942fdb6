/** How an attachment is shown on the wire, inside messages and from the upload call alike. */
import type { MessageAttachment } from '../../storage/models/message.model.js'
import type { Attachment } from '../messages/messages.schemas.js'

const UNITS = ['B', 'KB', 'MB', 'GB', 'TB']

/** "86.73 KB": 1024-based, two decimals above bytes. */
export function sizeLabel (bytes: number): string {
  let value = bytes
  let unit = 0
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024
    unit++
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(2)} ${UNITS[unit]}`
}

export function toAttachment (doc: MessageAttachment): Attachment {
  const id = String(doc._id)
  return { id, name: doc.name, size: doc.size, sizeLabel: sizeLabel(doc.size), mimeType: doc.mimeType, url: `/api/attachments/${id}` }
}
