import { Type } from 'typebox'
import { IdString } from '../../shared/schemas.js'

export { Attachment } from '../messages/messages.schemas.js'
export { errorResponses } from '../../shared/schemas.js'

export const AttachmentIdParams = Type.Object({ id: IdString })

/**
 * The multipart body, for the docs: the handler streams it (the route's hook hands the validator `{}`), so
 * only the reader enforces it.
 */
export const UploadBody = Type.Object({
  file: Type.Optional(Type.Unsafe<unknown>({ type: 'string', format: 'binary', description: 'the file (required); its type is detected from the content' })),
  conversationId: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'scope the upload to this conversation (members may download it)' }))
})

export const FileBytes = Type.Unsafe<unknown>({ type: 'string', format: 'binary', description: 'the bytes (206: the requested range)' })
