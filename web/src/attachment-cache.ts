/**
 * Attachments are fetched with the access token (an <img src> cannot send it) and shown through object URLs, one
 * per attachment, kept for the page's life; downloads save the same blob under the file's name.
 */
import type { ParleyClient } from '../../client/src/index.js'

interface Attachment { id: string, name: string }

export class AttachmentCache {
  private readonly urls = new Map<string, Promise<string>>()

  constructor (private readonly client: ParleyClient) {}

  async url (attachment: Attachment): Promise<string> {
    let url = this.urls.get(attachment.id)
    if (url === undefined) {
      url = this.client.download(attachment as Parameters<ParleyClient['download']>[0]).then(blob => URL.createObjectURL(blob))
      url.catch(() => { this.urls.delete(attachment.id) })
      this.urls.set(attachment.id, url)
    }
    return await url
  }

  async save (attachment: Attachment): Promise<void> {
    const link = document.createElement('a')
    link.href = await this.url(attachment)
    link.download = attachment.name
    link.click()
  }
}
