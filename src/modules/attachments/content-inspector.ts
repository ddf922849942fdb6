/**
 * Looks at an upload while it streams past, so the type comes from the bytes and the file is never held in
 * memory: keeps the first bytes for `file-type`'s magic-number detection and checks that the whole stream is
 * UTF-8 text without NUL bytes (the only case where `text/plain` is claimed).
 */
import { fileTypeFromBuffer } from 'file-type'

/** How many leading bytes are kept for detection (file-type's own "reasonable detection size"). */
export const SAMPLE_BYTES = 4100

export const OCTET_STREAM = 'application/octet-stream'
export const TEXT_PLAIN = 'text/plain'

export class ContentInspector {
  /** Bytes seen so far. */
  size = 0
  private readonly sampleChunks: Buffer[] = []
  private sampleSize = 0
  private textLike = true
  private readonly decoder = new TextDecoder('utf-8', { fatal: true })

  push (chunk: Buffer): void {
    this.size += chunk.length
    if (this.sampleSize < SAMPLE_BYTES) {
      const part = chunk.subarray(0, SAMPLE_BYTES - this.sampleSize)
      this.sampleChunks.push(Buffer.from(part))
      this.sampleSize += part.length
    }
    if (this.textLike) {
      try {
        if (chunk.includes(0)) this.textLike = false
        // stream: true carries a character split across chunks over to the next one.
        else this.decoder.decode(chunk, { stream: true })
      } catch {
        this.textLike = false
      }
    }
  }

  /** The detected MIME type, once the whole stream went through `push`. */
  async mimeType (): Promise<string> {
    const sample = Buffer.concat(this.sampleChunks)
    const detected = await fileTypeFromBuffer(sample)
    if (detected !== undefined) return detected.mime
    if (this.textLike && this.size > 0) {
      try {
        this.decoder.decode() // throws when the stream ended inside a multi-byte character
        return TEXT_PLAIN
      } catch {}
    }
    return OCTET_STREAM
  }
}
