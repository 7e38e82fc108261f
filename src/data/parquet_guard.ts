// Parquet files are read where they can be stopped: in a worker (Node: a worker_threads eval worker; the
// page: a module Web Worker) that is terminated when it runs past a time limit, so a damaged or crafted
// file ends in a message instead of a hung tab or command. One worker per file; its start-up (tens of ms)
// is small beside reading a real split.

import { readParquetBuffer, type ParquetReply } from './parquet_read';

/** Default time limit for reading one parquet file. */
export const PARQUET_TIME_LIMIT_MS = 120_000;

interface Job {
  promise: Promise<ParquetReply>;
  stop(): void;
}

function isNode(): boolean {
  const p = (globalThis as { process?: { versions?: { node?: string } } }).process;
  return typeof p?.versions?.node === 'string' && typeof (globalThis as { window?: unknown }).window === 'undefined';
}

type NodeWorker = {
  on(event: 'message', f: (v: ParquetReply) => void): void;
  on(event: 'error', f: (e: Error) => void): void;
  on(event: 'exit', f: (code: number) => void): void;
  terminate(): Promise<number>;
};

async function startNode(buffer: ArrayBuffer): Promise<Job> {
  // computed specifiers: browser bundles never try to include node:worker_threads / node:module
  const threads = 'node:worker_threads';
  const mod = 'node:module';
  const url = 'node:url';
  const { Worker } = (await import(/* @vite-ignore */ threads)) as { Worker: new (code: string, o: { eval: true; workerData: unknown }) => NodeWorker };
  const { createRequire } = (await import(/* @vite-ignore */ mod)) as { createRequire(u: string): { resolve(s: string): string } };
  const { pathToFileURL } = (await import(/* @vite-ignore */ url)) as { pathToFileURL(p: string): URL };
  const hyparquet = pathToFileURL(createRequire(import.meta.url).resolve('hyparquet')).href;
  // tsx (esbuild keepNames) may call a __name helper inside the serialised function
  const source = `"use strict";
const __name = (target) => target;
const { parentPort, workerData } = require('node:worker_threads');
import(workerData.hyparquet).then((h) => (${readParquetBuffer.toString()})(h, workerData.buffer)).then(
  (reply) => parentPort.postMessage(reply),
  (e) => parentPort.postMessage({ ok: false, stage: 'footer', message: String(e && e.message || e) }),
);`;
  const worker = new Worker(source, { eval: true, workerData: { hyparquet, buffer } });
  const promise = new Promise<ParquetReply>((resolve, reject) => {
    worker.on('message', resolve);
    worker.on('error', reject);
    worker.on('exit', (code) => reject(new Error(`the parquet worker exited with code ${code}`)));
  });
  return { promise, stop: () => void worker.terminate() };
}

function startBrowser(buffer: ArrayBuffer): Job {
  const worker = new Worker(new URL('./parquet.worker.ts', import.meta.url), { type: 'module', name: 'parquet' });
  const promise = new Promise<ParquetReply>((resolve, reject) => {
    worker.addEventListener('message', (ev: MessageEvent<ParquetReply>) => resolve(ev.data));
    worker.addEventListener('error', (ev: ErrorEvent) => {
      ev.preventDefault();
      reject(new Error(ev.message || 'the parquet worker could not be started'));
    });
  });
  worker.postMessage(buffer);
  return { promise, stop: () => worker.terminate() };
}

/** Reads one parquet file's footer and rows in a worker; null when it ran past `timeLimitMs` (the worker is
 * terminated). The buffer is copied to the worker, the caller's stays usable. */
export async function readParquetGuarded(buffer: ArrayBuffer, timeLimitMs = PARQUET_TIME_LIMIT_MS): Promise<ParquetReply | null> {
  const job = isNode() ? await startNode(buffer) : startBrowser(buffer);
  job.promise.catch(() => undefined); // a worker terminated at the time limit rejects later: nobody waits
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), timeLimitMs)));
  try {
    return await Promise.race([job.promise, timeout]);
  } finally {
    clearTimeout(timer);
    job.stop();
  }
}
