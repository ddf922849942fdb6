import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Readable } from 'node:stream'
import type { FastifyReply } from 'fastify'
import { AppError } from '../../shared/errors.js'
import { toAttachment } from './attachments.view.js'
import { Attachment, AttachmentIdParams, FileBytes, UploadBody, errorResponses } from './attachments.schemas.js'
import { contentDisposition } from './file-name.js'
import { parseRange } from './http-range.js'
import { TEXT_PLAIN } from './content-inspector.js'
import { notMultipart, readMultipart, registerMultipart } from './multipart-upload.js'
import type { AttachmentDoc } from '../../storage/models/attachment.model.js'

/** Headers every download carries: the file can never run as a page of ours, whatever it contains. */
function fileHeaders (reply: FastifyReply, doc: AttachmentDoc): void {
  void reply
    .header('Content-Type', doc.mimeType === TEXT_PLAIN ? 'text/plain; charset=utf-8' : doc.mimeType)
    .header('Content-Disposition', contentDisposition(doc.name))
    .header('Accept-Ranges', 'bytes')
    .header('X-Content-Type-Options', 'nosniff')
    .header('Content-Security-Policy', 'default-src \'none\'; sandbox')
    .header('Cache-Control', 'private, no-cache')
}

/** /api/attachments: upload (multipart, streamed into GridFS) and download with Range support. */
const attachmentsRoutes: FastifyPluginAsyncTypebox = async app => {
  const { attachments } = app
  app.addHook('onRequest', app.authenticate)
  await registerMultipart(app, app.config.uploadMaxBytes)
  const tags = ['attachments']
  const security = [{ bearer: [] }]

  app.post('/', {
    schema: {
      tags, security, consumes: ['multipart/form-data'],
      summary: 'Upload a file (multipart field "file", optional "conversationId"); the type is detected from the content',
      body: UploadBody,
      response: { 201: Attachment, ...errorResponses(400, 401, 404, 413, 415, 429) }
    },
    // The body is a stream the handler reads; validation sees `{}` so the docs schema can stay descriptive.
    preValidation: async request => {
      if (!request.isMultipart()) throw notMultipart()
      request.body = {}
    }
  }, async (request, reply) => {
    const { userId } = request.auth
    const { fields, stored } = await readMultipart(request, {
      fields: ['conversationId'],
      onFile: async (part, before) =>
        await attachments.upload(userId, { stream: part.file, filename: part.filename, conversationId: before.conversationId }),
      discard: async doc => { await attachments.remove(doc._id) }
    })
    let doc = stored
    // A conversationId sent after the file: check and scope now (the reader discards the upload on a 404).
    if (fields.conversationId !== undefined && doc.conversationIds.length === 0) {
      try {
        doc = await attachments.scope(userId, doc._id, fields.conversationId)
      } catch (error) {
        await attachments.remove(doc._id)
        throw error
      }
    }
    return reply.status(201).send(toAttachment(doc))
  })

  app.get('/:id', {
    schema: {
      tags, security, params: AttachmentIdParams,
      summary: 'Download (uploader, members of a conversation where a live message carries it, admins); Range: bytes=a-b, a-, -n answer 206',
      response: { 200: FileBytes, 206: FileBytes, ...errorResponses(400, 401, 404, 416) }
    }
  }, async (request, reply) => {
    const doc = await attachments.findReadable(request.auth.userId, request.auth.role, request.params.id)
    const range = parseRange(request.headers.range, doc.size)
    if (range === 'unsatisfiable') {
      // The error handler keeps headers set before the throw (it only replaces the type and length).
      void reply.header('Content-Range', `bytes */${doc.size}`).header('Accept-Ranges', 'bytes')
      throw new AppError('RANGE_NOT_SATISFIABLE', `The range is outside the file's ${doc.size} bytes`)
    }
    fileHeaders(reply, doc)
    // HEAD: the headers only; Fastify would read a real stream to the end just to discard it.
    const body = (selected?: { start: number, end: number }) =>
      request.method === 'HEAD' ? Readable.from([]) : attachments.read(doc._id, selected)
    if (range === null) {
      return reply.status(200).header('Content-Length', doc.size).send(body())
    }
    return reply.status(206)
      .header('Content-Range', `bytes ${range.start}-${range.end}/${doc.size}`)
      .header('Content-Length', range.end - range.start + 1)
      .send(body(range))
  })
}

export default attachmentsRoutes
