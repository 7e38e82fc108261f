// What each library under test provides to the runner: prepare a case (upload its inputs), then run it
// any number of times, wait for the GPU after each run, and compute it once more from fresh inputs for
// the numerical check.
import type { BenchCase } from './cases';

export type LibraryName = 'ours' | 'tfjs' | 'jax';

export interface PreparedCase {
  /** Queues one run on the GPU (accumulating outputs may keep accumulating: timing only). */
  run(): void;
  /** Resolves when the GPU has finished everything run() queued (a readback or onSubmittedWorkDone). */
  sync(): Promise<void>;
  /** One run from the case's inputs (accumulators reset), read back: one array per case.outputs. */
  check(): Promise<Float32Array[]>;
  dispose(): void;
  /** How this library computes the op when it has no single call for it. */
  composed?: string;
}

export interface BenchLibrary {
  name: LibraryName;
  /** package and version, e.g. "@tensorflow/tfjs-backend-webgpu 4.22.0" */
  version: string;
  prepare(c: BenchCase): Promise<PreparedCase>;
  destroy(): void;
}

/** Collects the uncaptured errors (validation, out of memory) that a library's device reports without
 * throwing; the returned function throws them, so that work WebGPU rejected is neither timed nor checked. */
export function watchErrors(device: GPUDevice): () => void {
  const errors: string[] = [];
  device.addEventListener('uncapturederror', (ev) => errors.push((ev as GPUUncapturedErrorEvent).error.message));
  return () => {
    if (errors.length) throw new Error(`WebGPU error: ${errors.splice(0).join(' | ')}`);
  };
}
