#!/usr/bin/env node
// Runs the CLI. `npm install` builds a bundle (dist/cli/main.js): it starts faster
// and idles in a third less memory. When the TypeScript sources are newer than
// the bundle (someone is editing them), they run directly through tsx instead,
// so nobody ever runs stale code.
import { bundle, bundleIsFresh } from './cli-bundle.js';

let main;
if (bundleIsFresh()) {
  ({ main } = await import(bundle));
} else {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import('../proxy/cli/main.ts'));
}
process.exitCode = await main(process.argv.slice(2));
