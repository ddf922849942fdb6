/**
 * Builds the web app (web/) into dist/web: esbuild bundles web/src/main.ts with the SDK and socket.io-client into
 * one ES module (about 0.2 s), and index.html and styles.css are copied next to it. `npm run build` (so `npm start`)
 * runs it; the browser tests call `buildWeb` into a directory of their own.
 */
import { build } from 'esbuild'
import { copyFile, mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { packageRoot } from '../src/shared/package-info.js'

/** Builds the app into `outDir` (default dist/web) and returns that directory. */
export async function buildWeb (outDir = join(packageRoot(), 'dist', 'web')): Promise<string> {
  const web = join(packageRoot(), 'web')
  await mkdir(outDir, { recursive: true })
  await build({
    entryPoints: [join(web, 'src', 'main.ts')],
    outfile: join(outDir, 'app.js'),
    bundle: true,
    format: 'esm',
    target: ['es2022'],
    platform: 'browser',
    minify: true,
    sourcemap: true,
    legalComments: 'linked',
    logLevel: 'warning'
  })
  await Promise.all(['index.html', 'styles.css'].map(async file => { await copyFile(join(web, file), join(outDir, file)) }))
  return outDir
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const started = Date.now()
  const outDir = await buildWeb()
  console.log(`web app built into ${outDir} in ${Date.now() - started} ms`)
}
