// Bundles the Electron main process and the preload into dist-electron/ (CommonJS,
// what `electron .` loads through package.json "main"). The preload runs
// sandboxed and may not require local files, so it must be a single file; main is
// bundled too so the packaged app needs no TypeScript loader.
import { build } from 'esbuild';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** @param {{ outdir?: string, minify?: boolean }} [options] */
export async function buildElectron(options = {}) {
  const outdir = options.outdir ?? join(root, 'dist-electron');
  const common = {
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node22',
    sourcemap: 'linked',
    minify: options.minify ?? false,
    logLevel: 'warning',
    // Provided by Electron at run time. bufferutil and utf-8-validate are optional
    // speed-ups ws tries to load and does without.
    external: ['electron', 'bufferutil', 'utf-8-validate'],
  };
  await Promise.all([
    build({
      ...common,
      entryPoints: { main: join(root, 'electron/main.ts') },
      outdir,
      outExtension: { '.js': '.cjs' },
      // ESM dependencies (electron-store, conf) read import.meta.url; in a CommonJS
      // bundle that is this file's own URL.
      define: { 'import.meta.url': '__bundleUrl' },
      banner: { js: "const __bundleUrl = require('node:url').pathToFileURL(__filename).href;" },
    }),
    build({
      ...common,
      entryPoints: { preload: join(root, 'electron/preload.ts') },
      outdir,
      outExtension: { '.js': '.cjs' },
      // The sandboxed preload has no Node built-ins beyond a few; keep it browser-shaped.
      target: 'chrome130',
    }),
  ]);
  return { main: join(outdir, 'main.cjs'), preload: join(outdir, 'preload.cjs') };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const out = await buildElectron();
  console.log(`Bundled ${out.main} and ${out.preload}`);
}
