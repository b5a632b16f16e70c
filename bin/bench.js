#!/usr/bin/env node
// `npm run bench`: the benchmark suite is TypeScript run through tsx, like the CLI,
// so it needs no build step. It is not part of `npm test`.
import { execFileSync } from 'node:child_process';
import { register } from 'tsx/esm/api';
import { bundleIsFresh, root } from './cli-bundle.js';

// The tunnel under test is the CLI a user runs: the bundle, rebuilt if the sources moved on.
if (!bundleIsFresh()) {
  console.log('bench: dist/cli is older than the sources; rebuilding it (npm run build:lib)');
  execFileSync('npm', ['run', '--silent', 'build:lib'], { cwd: root, stdio: 'inherit' });
}
register();
const { main } = await import('../test/bench/main.ts');
process.exitCode = await main(process.argv.slice(2));
