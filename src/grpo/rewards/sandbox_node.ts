// Node's custom-reward worker: a worker_threads Worker evaluating runSandbox's own text. The module is
// loaded with a computed specifier so that browser bundles never try to include node:worker_threads.

import { runSandbox, type SandboxHandle, type SandboxReply } from './sandbox_core';

interface NodeWorker {
  postMessage(value: unknown): void;
  on(event: 'message', listener: (value: SandboxReply) => void): void;
  on(event: 'error', listener: (error: Error) => void): void;
  on(event: 'exit', listener: (code: number) => void): void;
  unref(): void;
  terminate(): Promise<number>;
}

type WorkerThreads = { Worker: new (code: string, options: { eval: true }) => NodeWorker };

// Transpilers that keep function names (esbuild's keepNames, used by tsx) call a `__name` helper inside
// function bodies; the serialised function needs a stand-in for it.
const WORKER_SOURCE = `"use strict";
const __name = (target) => target;
const { parentPort } = require('node:worker_threads');
(${runSandbox.toString()})(
  (reply) => parentPort.postMessage(reply),
  (handler) => parentPort.on('message', handler),
);
`;

export async function createNodeSandbox(): Promise<SandboxHandle> {
  const specifier = 'node:worker_threads';
  const { Worker } = (await import(/* @vite-ignore */ specifier)) as WorkerThreads;
  const worker = new Worker(WORKER_SOURCE, { eval: true });
  // A forgotten dispose() must not keep the process alive; a pending evaluate() holds its own timer.
  worker.unref();
  let exited = false;
  return {
    post: (request) => worker.postMessage(request),
    onMessage: (handler) => worker.on('message', handler),
    onError: (handler) => {
      worker.on('error', (e) => handler(e.message));
      worker.on('exit', (code) => {
        if (!exited) handler(`the reward worker exited with code ${code}`);
      });
    },
    terminate: () => {
      exited = true;
      void worker.terminate();
    },
  };
}
