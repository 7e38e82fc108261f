// Qwen3.5's kernels against their CPU references on the Node WebGPU adapter (the same checks run in
// test/kernels.test.ts with every other kernel; this file runs only these).
import { describe, expect, test } from 'vitest';
import { check as gatedDelta } from '../src/selftest/kernels/gated_delta';
import { check as gatedDeltaChunk } from '../src/selftest/kernels/gated_delta_chunk';
import { checks as qwen35Ops } from '../src/selftest/kernels/qwen35_ops';
import type { KernelCheck } from '../src/selftest/check';
import { testGpu } from './gpu';

const checks: KernelCheck[] = [gatedDelta, gatedDeltaChunk, ...qwen35Ops];

describe('Qwen3.5 kernels match their CPU references', () => {
  for (const check of checks) {
    test(check.kernel, async () => {
      const gpu = await testGpu();
      const results = await check.run(gpu);
      expect(results.length).toBeGreaterThan(0);
      const failed = results.filter((r) => !r.ok);
      expect(failed.map((r) => `${r.kernel} ${r.case}: max |err| ${r.maxAbsErr}\n  ${r.mismatches.join('\n  ')}`).join('\n')).toBe('');
      expect(gpu.pool.stats.bytesInUse, 'a check leaked tensors').toBeLessThanOrEqual(0);
    });
  }
});
