// The store's connection to the engine worker. Actions call the worker through this client only; nothing
// in the store touches the GPU.

import type { EngineClient } from '../../worker/client';

let engine: EngineClient | null = null;

/** Connects the store to the engine worker (main.tsx does this once at start-up). */
export function connectEngine(client: EngineClient): void {
  engine = client;
}

export function requireEngine(): EngineClient {
  if (!engine) throw new Error('The engine worker is not connected (connectEngine was not called)');
  return engine;
}

export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
