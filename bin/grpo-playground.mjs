#!/usr/bin/env node
// The package's command line (npx grpo-playground ...): runs src/cli/main.ts through bin/run-ts.mjs's loaders.
import { register } from 'node:module';
import { register as registerTsx } from 'tsx/esm/api';

registerTsx();
register('./wgsl-raw-loader.mjs', import.meta.url);
await import(new URL('../src/cli/main.ts', import.meta.url).href);
