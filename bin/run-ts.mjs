#!/usr/bin/env node
// Runs a TypeScript entry of this project in Node: TypeScript through tsx, WGSL `?raw` imports through our hook.
import { register } from 'node:module';
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';
import { register as registerTsx } from 'tsx/esm/api';

registerTsx();
register('./wgsl-raw-loader.mjs', import.meta.url);
const [entry, ...rest] = process.argv.slice(2);
process.argv = [process.argv[0], entry, ...rest];
await import(pathToFileURL(resolve(entry)).href);
