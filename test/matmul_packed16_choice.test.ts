// Which 16-bit weight matmul runs (src/gpu/kernels/matmul_packed16_variants.ts): a software adapter always
// keeps matmul_packed16_forward/_backward ('block8') and records nothing to tune; a runtime presenting the
// device as hardware gets the fixed table (split-K for decode-sized M, tiles otherwise) and records the shape
// class for the autotuner; variants the device cannot run are refused by name when forced.
import { describe, expect, test } from 'vitest';
import { matmulPacked16Forward } from '../src/gpu/kernels/matmul_packed16';
import { ALL_PACKED16_PATHS, choosePacked16Path, packed16Paths, packed16PathUnavailable, packed16ShapeClass } from '../src/gpu/kernels/matmul_packed16_variants';
import { GpuRuntime } from '../src/gpu/runtime';
import { testGpu } from './gpu';

describe('choosing the packed 16-bit matmul', () => {
  test('software adapters keep block8; hardware gets the table and a pending shape class', async () => {
    const gpu = await testGpu();
    expect(gpu.adapter.isSoftware).toBe(true);
    for (const dir of ['forward', 'backward'] as const) {
      for (const M of [1, 2, 8, 128, 4096]) expect(choosePacked16Path(gpu, { dir, format: 'bf16', M, K: 576, N: 1536 })).toBe('block8');
    }
    expect(gpu.variantPending.size).toBe(0);

    const hw = new GpuRuntime(gpu.device, { ...gpu.adapter, vendor: 'nvidia', isSoftware: false });
    const decode = { dir: 'forward' as const, format: 'bf16' as const, M: 2, K: 576, N: 1536 };
    expect(choosePacked16Path(hw, decode)).toBe('smallm');
    expect(choosePacked16Path(hw, { ...decode, M: 128 })).toBe('tiled_64x64_k16');
    expect(choosePacked16Path(hw, { ...decode, M: 512, dir: 'backward' })).toBe('tiled_128x64_k16');
    expect(choosePacked16Path(hw, { ...decode, M: 40, N: 40, K: 32 })).toBe('tiled_32x32_k16');
    expect([...hw.variantPending.keys()]).toEqual([
      'matmul_packed16 forward bf16 M2 K1024 N2048',
      'matmul_packed16 forward bf16 M128 K1024 N2048',
      'matmul_packed16 backward bf16 M512 K1024 N2048',
      'matmul_packed16 forward bf16 M64 K32 N64',
    ]);
    expect(packed16ShapeClass(decode)).toBe('matmul_packed16 forward bf16 M2 K1024 N2048');
    // an autotuned choice wins, if the device can run it
    hw.variantChoices.set(packed16ShapeClass(decode), 'tiled_32x32_k16');
    expect(choosePacked16Path(hw, decode)).toBe('tiled_32x32_k16');
  });

  test('the shader-f16 tiles: IEEE half only, and only where the device has shader-f16', async () => {
    const gpu = await testGpu();
    const hasF16 = gpu.device.features.has('shader-f16' as GPUFeatureName);
    const f16Tiles = ALL_PACKED16_PATHS.filter((p) => p.startsWith('f16_'));
    expect(f16Tiles).toHaveLength(3);
    for (const p of f16Tiles) {
      expect(packed16Paths(gpu, 'bf16')).not.toContain(p);
      expect(packed16PathUnavailable(gpu, p, 'bf16')).toMatch(hasF16 ? /IEEE-half weights only/ : /shader-f16/);
      expect(packed16Paths(gpu, 'f16').includes(p)).toBe(hasF16);
    }
    if (!hasF16) {
      const x = gpu.zeros([2, 4], 'x');
      const w = gpu.zeros([3, 2], 'w16', 'u32');
      const y = gpu.tensor([2, 3], 'y');
      expect(() => matmulPacked16Forward(gpu, y, x, w, 'f16', { path: 'f16_tiled_64x64_k16' })).toThrow(
        /matmul_packed16_forward: the f16_tiled_64x64_k16 variant cannot run f16 weights here \(can: block8, tiled_32x32_k16/,
      );
      gpu.release(x, w, y);
    }
  });
});
