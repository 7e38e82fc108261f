// Which quantised-weight matmul runs (src/gpu/kernels/matmul_quant_variants.ts): a software adapter gets the
// fixed table of register-blocked kernels (rows per invocation as M needs) and records nothing to tune; a
// runtime presenting the device as hardware gets split-K for decode-sized M, workgroup tiles from 32 rows, 8-row
// blocks between, and
// records the shape class; the autotuner times every variant of a pending class and its winner then runs.
import { describe, expect, test } from 'vitest';
import { tunePending, variantReport } from '../src/gpu/autotune';
import { variantAvailability } from '../src/gpu/kernels/matmul_availability';
import { chooseQuantPath, quantPaths, quantShapeClass } from '../src/gpu/kernels/matmul_quant_variants';
import { GpuRuntime } from '../src/gpu/runtime';
import { testGpu } from './gpu';

describe('choosing the quantised matmul', () => {
  test('software adapters: the register-blocked table, nothing pending; hardware: split-K for decoding, a pending class', async () => {
    const gpu = await testGpu();
    expect(gpu.adapter.isSoftware).toBe(true);
    const decode = { dir: 'forward' as const, type: 'Q8_0' as const, M: 1, K: 576, N: 1536 };
    expect(chooseQuantPath(gpu, decode)).toBe('block_r1');
    expect(chooseQuantPath(gpu, { ...decode, M: 3 })).toBe('block_r4');
    expect(chooseQuantPath(gpu, { ...decode, M: 64, dir: 'backward' })).toBe('block_r8');
    expect(gpu.variantPending.size).toBe(0);

    const hw = new GpuRuntime(gpu.device, { ...gpu.adapter, vendor: 'nvidia', isSoftware: false });
    const sub = hw.device.features.has('subgroups');
    expect(chooseQuantPath(hw, decode)).toBe(sub ? 'splitk_subgroup' : 'splitk');
    expect(chooseQuantPath(hw, { ...decode, M: 64, type: 'Q4_K', K: 2048 })).toBe('tiled');
    expect(chooseQuantPath(hw, { ...decode, M: 16, dir: 'backward' })).toBe('block_r8');
    expect([...hw.variantPending.keys()]).toEqual([
      'matmul_quant forward Q8_0 M1 K1024 N2048', 'matmul_quant forward Q4_K M64 K2048 N2048', 'matmul_quant backward Q8_0 M16 K1024 N2048',
    ]);
    expect(quantShapeClass(decode)).toBe('matmul_quant forward Q8_0 M1 K1024 N2048');
    hw.variantChoices.set(quantShapeClass(decode), 'block_r4');
    expect(chooseQuantPath(hw, decode)).toBe('block_r4');
    hw.variantChoices.delete(quantShapeClass(decode));

    // the autotuner times every variant of a small pending class and keeps the fastest
    hw.variantPending.clear();
    const small = { dir: 'backward' as const, type: 'Q6_K' as const, M: 2, K: 256, N: 8 };
    chooseQuantPath(hw, small);
    const [entry] = await tunePending(hw, { budgetMs: 60_000, perCandidateMs: 1 });
    expect(entry.op).toBe('matmul_quant');
    expect(entry.candidates.map((c) => c.variant).sort()).toEqual([...quantPaths(hw)].sort());
    expect(chooseQuantPath(hw, small)).toBe(entry.variant);
    expect(variantReport(hw).find((r) => r.shapeClass === quantShapeClass(small))?.source).toBe('autotuned');
    expect(variantAvailability(hw).filter((r) => r.op === 'matmul_quant').map((r) => r.variant)).toEqual([
      'plain', 'block_r1', 'block_r4', 'block_r8', 'splitk', 'splitk_subgroup', 'tiled',
    ]);
  });

});
