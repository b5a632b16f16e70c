#!/usr/bin/env node
// Runs the TypeScript CLI directly: tsx compiles on load, so a fresh clone needs
// only `npm install`, with no build step.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../proxy/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
