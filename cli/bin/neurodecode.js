#!/usr/bin/env node
// The sources are TypeScript, run through tsx's loader: no build step, and external plugins may be .ts too.
import { register as registerHooks } from 'node:module';
import { register as registerTsx } from 'tsx/esm/api';

registerTsx();
registerHooks('./host-modules.js', import.meta.url);
const { main } = await import('../main.ts');
await main(process.argv.slice(2));
