// One GPU runtime per test file (vitest runs each file in its own process).
import { acquireNodeGpu } from '../src/gpu/node';
import type { GpuRuntime } from '../src/gpu/runtime';

let shared: Promise<GpuRuntime> | null = null;

export function testGpu(): Promise<GpuRuntime> {
  shared ??= acquireNodeGpu();
  return shared;
}
