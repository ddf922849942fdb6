/** Helpers for the attachment tests: hand-built multipart bodies, file fixtures with real magic numbers, uploads. */
import { randomBytes } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import { bearer } from '../../helpers/rest.js'
import type { Tokens } from '../../helpers/users.js'

export interface FilePart { name?: string, filename: string, contentType?: string, data: Buffer }
export type Part = FilePart | { name: string, value: string, contentType?: string }

/** A multipart/form-data body and its Content-Type header, parts in the given order. */
export function multipart (parts: Part[], boundary = `----parley${randomBytes(8).toString('hex')}`): { payload: Buffer, headers: Record<string, string> } {
  const chunks: Buffer[] = []
  for (const part of parts) {
    chunks.push(Buffer.from(`--${boundary}\r\n`))
    if ('data' in part) {
      chunks.push(Buffer.from(`Content-Disposition: form-data; name="${part.name ?? 'file'}"; filename="${part.filename}"\r\n` +
        `Content-Type: ${part.contentType ?? 'application/octet-stream'}\r\n\r\n`))
      chunks.push(part.data)
    } else {
      const type = part.contentType !== undefined ? `Content-Type: ${part.contentType}\r\n` : ''
      chunks.push(Buffer.from(`Content-Disposition: form-data; name="${part.name}"\r\n${type}\r\n${part.value}`))
    }
    chunks.push(Buffer.from('\r\n'))
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`))
  return { payload: Buffer.concat(chunks), headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } }
}

/**
 * A PNG signature, an IHDR chunk and an IDAT chunk of `extra` random bytes (file-type walks the chunks to the
 * first IDAT to tell PNG from APNG), then IEND: 57 + extra bytes.
 */
export function pngFixture (extra = 0): Buffer {
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])
  const ihdr = Buffer.from('0000000d49484452000000010000000108060000001f15c489', 'hex')
  const idatHeader = Buffer.alloc(8)
  idatHeader.writeUInt32BE(extra, 0)
  idatHeader.write('IDAT', 4, 'latin1')
  const iend = Buffer.from('0000000049454e44ae426082', 'hex')
  return Buffer.concat([signature, ihdr, idatHeader, randomBytes(extra), Buffer.alloc(4), iend])
}

/** "%PDF-1.7" and a body of `extra` random bytes. */
export function pdfFixture (extra = 0): Buffer {
  return Buffer.concat([Buffer.from('%PDF-1.7\n%\xe2\xe3\xcf\xd3\n', 'latin1'), randomBytes(extra)])
}

export async function upload (app: FastifyInstance, user: Tokens | null, parts: Part[]) {
  const body = multipart(parts)
  return await app.inject({
    method: 'POST', url: '/api/attachments', payload: body.payload,
    headers: { ...body.headers, ...(user !== null ? bearer(user.accessToken) : {}) }
  })
}

/** Uploads and returns the attachment (throws unless 201). */
export async function uploaded (app: FastifyInstance, user: Tokens, file: FilePart, fields: Part[] = []) {
  const res = await upload(app, user, [...fields, file])
  if (res.statusCode !== 201) throw new Error(`upload failed: ${res.statusCode} ${res.body}`)
  return res.json() as { id: string, name: string, size: number, sizeLabel: string, mimeType: string, url: string }
}

export async function download (app: FastifyInstance, user: Tokens | null, id: string, headers: Record<string, string> = {}) {
  return await app.inject({
    method: 'GET', url: `/api/attachments/${id}`, headers: { ...headers, ...(user !== null ? bearer(user.accessToken) : {}) }
  })
}

/** How many GridFS chunks and files the bucket holds. */
export async function bucketCounts (app: FastifyInstance): Promise<{ chunks: number, files: number }> {
  const db = app.storage.connection.db!
  return {
    chunks: await db.collection('attachments.chunks').countDocuments({}),
    files: await db.collection('attachments.files').countDocuments({})
  }
}
