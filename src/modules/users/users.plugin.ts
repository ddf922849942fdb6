import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import { AppError } from '../../shared/errors.js'
import { UsersService } from './users.service.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** Accounts, shared by the auth and users routes and the admin module. */
    users: UsersService
  }
}

/**
 * Decorates `app.users` and, when ADMIN_USERNAME/ADMIN_EMAIL/ADMIN_PASSWORD are all set, creates that admin
 * if it is missing (an existing account of that name is left as it is: see UsersService.ensureAdmin).
 */
async function usersPlugin (app: FastifyInstance): Promise<void> {
  const users = new UsersService({
    User: app.models.User,
    passwords: app.passwords,
    revocation: app.revocation,
    limiter: app.loginLimiter
  })
  app.decorate('users', users)

  const admin = app.config.admin
  if (admin !== null) {
    try {
      const { user, action } = await users.ensureAdmin(admin, { promote: false })
      if (action === 'created') app.log.info({ username: user.username }, 'admin account created from ADMIN_* settings')
      else if (user.role !== 'admin') app.log.warn({ username: user.username }, 'ADMIN_* names an existing non-admin account: not promoted (use npm run create-admin)')
    } catch (error) {
      // A clash with existing accounts is the operator's to resolve; the service still starts.
      if (!(error instanceof AppError)) throw error
      app.log.warn({ code: error.code }, `admin account from ADMIN_* settings not created: ${error.message}`)
    }
  }
}

export default fp(usersPlugin, { name: 'users', fastify: '5.x', dependencies: ['models', 'auth'] })
