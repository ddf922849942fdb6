/**
 * The one place room names are made. Every socket joins its user's room and the rooms of its conversations;
 * with the Redis adapter the same names reach sockets on every instance.
 */
export const userRoom = (userId: string): string => `user:${userId}`
export const conversationRoom = (conversationId: string): string => `conversation:${conversationId}`
