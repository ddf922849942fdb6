/**
 * Attachments are fetched with the access token (an <img src> cannot send it) and shown through object URLs.
 * Previews are fetched when they scroll into view (a long history does not download every image at once) and
 * kept while the app runs; a download gets its own URL, revoked once the browser has taken the file. `clear()`
 * revokes everything (the session ended).
 */
import type { Attachment, ParleyClient } from '../../client/src/index.js'

/** How long a download's object URL lives after the click (the browser copies the blob when the download starts). */
const DOWNLOAD_URL_MS = 60_000

export class AttachmentCache {
  private readonly previews = new Map<string, Promise<string>>()
  private readonly observer: IntersectionObserver
  private readonly waiting = new Map<Element, () => void>()

  constructor (private readonly client: ParleyClient) {
    this.observer = new IntersectionObserver(entries => {
      for (const entry of entries) {
        if (!entry.isIntersecting) continue
        this.observer.unobserve(entry.target)
        this.waiting.get(entry.target)?.()
        this.waiting.delete(entry.target)
      }
    }, { rootMargin: '200px' })
  }

  /** Shows the image in `img` once it is near the viewport. */
  preview (img: HTMLImageElement, attachment: Attachment): void {
    this.waiting.set(img, () => {
      void this.previewUrl(attachment).then(url => { img.src = url }, () => { img.alt = `${attachment.name} (could not load)` })
    })
    this.observer.observe(img)
  }

  async save (attachment: Attachment): Promise<void> {
    const url = URL.createObjectURL(await this.client.download(attachment))
    const link = document.createElement('a')
    link.href = url
    link.download = attachment.name
    link.click()
    setTimeout(() => { URL.revokeObjectURL(url) }, DOWNLOAD_URL_MS)
  }

  clear (): void {
    this.observer.disconnect()
    this.waiting.clear()
    for (const url of this.previews.values()) void url.then(URL.revokeObjectURL, () => {})
    this.previews.clear()
  }

  private async previewUrl (attachment: Attachment): Promise<string> {
    let url = this.previews.get(attachment.id)
    if (url === undefined) {
      url = this.client.download(attachment).then(blob => URL.createObjectURL(blob))
      url.catch(() => { this.previews.delete(attachment.id) })
      this.previews.set(attachment.id, url)
    }
    return await url
  }
}
