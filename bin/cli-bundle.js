// Whether dist/cli (the bundled CLI `npm install` builds) is at least as new as the
// TypeScript it was built from. Shared by the CLI launcher and the bench.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = fileURLToPath(new URL('..', import.meta.url));
export const bundle = join(root, 'dist', 'cli', 'main.js');

function newestSource() {
  let newest = 0;
  for (const dir of ['proxy', 'shared']) {
    for (const entry of readdirSync(join(root, dir), { withFileTypes: true, recursive: true })) {
      // Tests are not in the bundle: editing one does not make it stale.
      if (entry.isFile() && entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts')) {
        newest = Math.max(newest, statSync(join(entry.parentPath, entry.name)).mtimeMs);
      }
    }
  }
  return newest;
}

/**
 * In an installed package the bundle is what was published with the sources, so only a
 * git checkout (where people edit) pays for looking at every source file.
 */
export function bundleIsFresh() {
  if (!existsSync(bundle)) return false;
  if (!existsSync(join(root, '.git'))) return true;
  return statSync(bundle).mtimeMs >= newestSource();
}
