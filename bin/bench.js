#!/usr/bin/env node
// `npm run bench`: the benchmark suite is TypeScript run through tsx, like the CLI,
// so it needs no build step. It is not part of `npm test`.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../test/bench/main.ts');
process.exitCode = await main(process.argv.slice(2));
