/**
 * The web chat app (web/, built by scripts/build-web.ts into dist/web) served at `/` by @fastify/static: only the
 * built files become routes (`wildcard: false`), so every other path keeps the API's JSON 404. Pages get a strict
 * Content-Security-Policy (the API answers stay without one: the /docs UI needs inline scripts). When the app is
 * not built, `/` says how to build it instead.
 */
import fp from 'fastify-plugin'
import fastifyStatic from '@fastify/static'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import type { FastifyInstance } from 'fastify'
import { packageRoot } from '../shared/package-info.js'

export interface WebAppOptions {
  /** The built app's directory; false serves no app. Default `dist/web` in Parley's package. */
  root?: string | false
}

/** Same-origin scripts, styles, sockets (CSP 3: 'self' covers ws: and wss: to the same host) and files; images also from blob: URLs (attachments are fetched with the token). */
export const WEB_APP_CSP = [
  "default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self' blob: data:",
  "connect-src 'self'", "object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'", "form-action 'self'"
].join('; ')

const NOT_BUILT_PAGE = '<!doctype html><html lang="en"><meta charset="utf-8"><title>Parley</title>' +
  '<p>Parley is running. The web app is not built: run <code>npm run build</code> (<code>npm start</code> does it).</p></html>'

async function webAppPlugin (app: FastifyInstance, options: WebAppOptions): Promise<void> {
  if (options.root === false) return
  const root = options.root ?? join(packageRoot(), 'dist', 'web')
  if (!existsSync(join(root, 'index.html'))) {
    app.log.warn({ root }, 'web app not built: / shows how to build it')
    app.get('/', { schema: { hide: true } }, async (_request, reply) => await reply.type('text/html; charset=utf-8').send(NOT_BUILT_PAGE))
    return
  }
  await app.register(fastifyStatic, {
    root,
    prefix: '/',
    wildcard: false,
    index: 'index.html',
    // Revalidate every time (ETag): a new build is picked up at once, an unchanged file costs a 304.
    cacheControl: false,
    setHeaders: res => {
      res.setHeader('Cache-Control', 'no-cache')
      res.setHeader('Content-Security-Policy', WEB_APP_CSP)
    }
  })
}

export default fp(webAppPlugin, { name: 'web-app', fastify: '5.x' })
