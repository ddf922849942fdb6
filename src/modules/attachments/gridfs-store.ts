/**
 * The bytes of attachments, in the GridFS bucket `attachments` (collections attachments.files and
 * attachments.chunks), written and read as streams. One write or chunk insert is in flight at a time, so an
 * aborted upload can delete its chunks without a late insert leaving an orphan behind.
 */
import type { Readable } from 'node:stream'
import mongoose, { type Connection, type Types } from 'mongoose'
import { AppError } from '../../shared/errors.js'
import { ContentInspector } from './content-inspector.js'

export const BUCKET_NAME = 'attachments'

export const tooLarge = (maxBytes: number): AppError =>
  new AppError('PAYLOAD_TOO_LARGE', `The file is over the upload limit of ${maxBytes} bytes`)

export interface StoredFile { size: number, mimeType: string }

/** A Readable that may have been cut short by a parser limit (busboy sets `truncated`). */
type Source = Readable & { truncated?: boolean }

export class GridFsStore {
  private readonly bucket: InstanceType<typeof mongoose.mongo.GridFSBucket>

  constructor (connection: Connection) {
    if (connection.db === undefined) throw new Error('GridFsStore needs a connected connection')
    this.bucket = new mongoose.mongo.GridFSBucket(connection.db, { bucketName: BUCKET_NAME })
  }

  /**
   * Streams `source` into a GridFS file with id `id`, detecting its type on the way. Over `maxBytes` it throws
   * `overLimit()` (default 413 PAYLOAD_TOO_LARGE, also when cut by the parser's own limit); on any failure
   * nothing of the file is left.
   */
  async write (id: Types.ObjectId, filename: string, source: Source, maxBytes: number, overLimit = () => tooLarge(maxBytes)): Promise<StoredFile> {
    const upload = this.bucket.openUploadStreamWithId(id, filename)
    // Errors are also reported through the write/end callbacks awaited below; this keeps them from being unhandled.
    upload.on('error', () => {})
    const inspector = new ContentInspector()
    let ended = false
    try {
      for await (const chunk of source) {
        const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array)
        inspector.push(buffer)
        if (inspector.size > maxBytes) throw overLimit()
        await new Promise<void>((resolve, reject) => upload.write(buffer, error => error != null ? reject(error) : resolve()))
      }
      if (source.truncated === true) throw tooLarge(maxBytes)
      ended = true
      await new Promise<void>((resolve, reject) => upload.end((error?: Error | null) => error != null ? reject(error) : resolve()))
    } catch (error) {
      if (!ended) await upload.abort().catch(() => {})
      await this.delete(id)
      throw error
    }
    return { size: inspector.size, mimeType: await inspector.mimeType() }
  }

  /** The bytes from `start` to `end` inclusive (default: all). */
  read (id: Types.ObjectId, range?: { start: number, end: number }): Readable {
    return this.bucket.openDownloadStream(id, range !== undefined ? { start: range.start, end: range.end + 1 } : {})
  }

  /** Removes the file and its chunks (the driver deletes orphan chunks even when the files entry is missing). */
  async delete (id: Types.ObjectId): Promise<void> {
    await this.bucket.delete(id).catch((error: unknown) => {
      if ((error as Error)?.message?.includes('File not found') !== true) throw error
    })
  }
}
