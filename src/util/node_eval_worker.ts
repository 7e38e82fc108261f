// Work that must be stoppable (reading a crafted parquet file, probing a tokenizer's regexes and a chat
// template) runs in a worker that is terminated at a time limit. In Node that is a worker_threads eval
// worker: its source is a string, the packages it needs are passed as file URLs, and every node:* module is
// named by a computed specifier so that browser bundles never try to include them. The page uses module Web
// Workers instead (each caller's own *.worker.ts).

/** Whether this is Node (and not a browser page that happens to define `process`). */
export function isNodeProcess(): boolean {
  const p = (globalThis as { process?: { versions?: { node?: string } } }).process;
  return typeof p?.versions?.node === 'string' && typeof (globalThis as { window?: unknown }).window === 'undefined';
}

/** The part of a worker_threads Worker the callers use; M is what the worker posts. */
export interface NodeEvalWorker<M> {
  on(event: 'message', f: (v: M) => void): void;
  on(event: 'error', f: (e: Error) => void): void;
  on(event: 'exit', f: (code: number) => void): void;
  terminate(): Promise<number>;
}

/**
 * Starts `body` in a worker_threads eval worker. The body is plain JavaScript that sees `parentPort`,
 * `workerData` (= `data`) and `workerData.libs[name]`, the file URL of each package of `packages` (resolved
 * from this module, to be loaded with `import()`).
 */
export async function startNodeEvalWorker<M>(packages: string[], body: string, data: Record<string, unknown>): Promise<NodeEvalWorker<M>> {
  const threads = 'node:worker_threads';
  const mod = 'node:module';
  const url = 'node:url';
  const { Worker } = (await import(/* @vite-ignore */ threads)) as { Worker: new (code: string, o: { eval: true; workerData: unknown }) => NodeEvalWorker<M> };
  const { createRequire } = (await import(/* @vite-ignore */ mod)) as { createRequire(u: string): { resolve(s: string): string } };
  const { pathToFileURL } = (await import(/* @vite-ignore */ url)) as { pathToFileURL(p: string): URL };
  const require = createRequire(import.meta.url);
  const libs = Object.fromEntries(packages.map((p) => [p, pathToFileURL(require.resolve(p)).href]));
  // tsx (esbuild keepNames) may call a __name helper inside functions serialised into the body
  const source = `"use strict";
const __name = (target) => target;
const { parentPort, workerData } = require('node:worker_threads');
${body}`;
  return new Worker(source, { eval: true, workerData: { ...data, libs } });
}
