// The page's side of the engine worker: sends typed requests, routes progress replies to a callback and
// settles each call's promise with its `return` or `throw`. The page does no GPU work; the worker does.

import type { ProgressOf, ReplyMessage, RequestMessage, RequestOf, RequestType, ValueOf } from './protocol';
import { SANDBOX_BROKER_MESSAGE } from './protocol';
import { serveSandboxBroker } from '../grpo/rewards/sandbox_browser';

interface Pending {
  resolve(value: unknown): void;
  reject(error: Error): void;
  onProgress?: (value: unknown) => void;
}

/** The part of a Worker the client uses (a real Worker, or a stand-in with the same shape). */
export interface WorkerPort {
  postMessage(message: RequestMessage): void;
  addEventListener(type: 'message', listener: (ev: MessageEvent<ReplyMessage>) => void): void;
  addEventListener(type: 'error', listener: (ev: ErrorEvent) => void): void;
  terminate(): void;
}

export class EngineClient {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private failure: Error | null = null;

  constructor(private readonly worker: WorkerPort) {
    worker.addEventListener('message', (ev) => this.onReply(ev.data));
    worker.addEventListener('error', (ev) => {
      // An uncaught error in the worker, or a worker script that failed to load: no reply will come.
      ev.preventDefault?.();
      this.failAll(new Error(`The engine worker failed: ${ev.message || 'its script could not be loaded'}`));
    });
  }

  /** Sends one request; resolves with its return value, rejects with the worker's error message. */
  call<K extends RequestType>(request: RequestOf<K>, onProgress?: (value: ProgressOf<K>) => void): Promise<ValueOf<K>> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise<ValueOf<K>>((resolve, reject) => {
      this.pending.set(id, {
        resolve: resolve as (value: unknown) => void,
        reject,
        onProgress: onProgress as ((value: unknown) => void) | undefined,
      });
      this.worker.postMessage({ ...request, id } as RequestMessage);
    });
  }

  /** Stops the worker; calls still waiting are rejected. */
  terminate(): void {
    this.worker.terminate();
    this.failAll(new Error('The engine worker was stopped'));
  }

  private onReply(reply: ReplyMessage): void {
    const p = this.pending.get(reply.id);
    if (!p) return;
    switch (reply.type) {
      case 'progress':
        p.onProgress?.(reply.value);
        break;
      case 'return':
        this.pending.delete(reply.id);
        p.resolve(reply.value);
        break;
      case 'throw':
        this.pending.delete(reply.id);
        p.reject(new Error(reply.message));
        break;
    }
  }

  private failAll(error: Error): void {
    this.failure = error;
    for (const p of this.pending.values()) p.reject(error);
    this.pending.clear();
  }
}

/** Starts the engine worker (Vite bundles it from this expression). */
export function startEngineWorker(): EngineClient {
  const worker = new Worker(new URL('./engine.worker.ts', import.meta.url), { type: 'module', name: 'engine' });
  // user code runs in sandboxed frames, which only the page can open: the worker asks through this port
  const sandboxes = new MessageChannel();
  serveSandboxBroker(sandboxes.port1);
  worker.postMessage({ type: SANDBOX_BROKER_MESSAGE }, [sandboxes.port2]);
  return new EngineClient(worker);
}
