// The browser's custom-reward worker: a module Web Worker that Vite bundles from sandbox.worker.ts.

import type { SandboxHandle } from './sandbox_core';

export async function createBrowserSandbox(): Promise<SandboxHandle> {
  const worker = new Worker(new URL('./sandbox.worker.ts', import.meta.url), { type: 'module', name: 'custom-reward' });
  return {
    post: (request) => worker.postMessage(request),
    onMessage: (handler) => worker.addEventListener('message', (ev: MessageEvent) => handler(ev.data)),
    onError: (handler) =>
      worker.addEventListener('error', (ev: ErrorEvent) => {
        ev.preventDefault();
        handler(ev.message || 'the reward worker script could not be loaded');
      }),
    terminate: () => worker.terminate(),
  };
}
