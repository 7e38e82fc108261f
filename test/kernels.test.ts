// Every kernel against its CPU reference on the Node WebGPU adapter (SwiftShader without a GPU).
import { describe, expect, test } from 'vitest';
import { kernelChecks } from '../src/selftest/registry';
import { testGpu } from './gpu';

describe('kernels match their CPU references', () => {
  test('there are kernel checks', () => {
    expect(kernelChecks.length).toBeGreaterThan(0);
  });
  for (const check of kernelChecks) {
    test(check.kernel, async (ctx) => {
      const gpu = await testGpu();
      const why = check.unavailable?.(gpu);
      if (why) {
        console.log(`${check.kernel}: untested on this adapter (${why})`);
        ctx.skip();
      }
      const results = await check.run(gpu);
      expect(results.length).toBeGreaterThan(0);
      const failed = results.filter((r) => !r.ok);
      const report = failed.map((r) => `${r.kernel} ${r.case}: max |err| ${r.maxAbsErr}\n  ${r.mismatches.join('\n  ')}`);
      expect(report.join('\n')).toBe('');
      expect(gpu.pool.stats.bytesInUse, 'a check leaked tensors').toBeLessThanOrEqual(0);
    });
  }
});
