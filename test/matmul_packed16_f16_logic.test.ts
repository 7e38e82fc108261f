// The shader-f16 packed-weight kernels (matmul_packed16_tiled_f16_forward/_backward.wgsl) cannot compile on
// an adapter without shader-f16 (SwiftShader here, in Node and in Chromium), so the self-test reports them as
// untested. This checks everything but their f16 lines: the kernels with their marked f16 type block swapped
// for f32 (tile_s = f32, tile_v = vec4f, pair16 = unpack2x16float, exact for IEEE-half weights) must match
// the CPU reference on every tile shape, forward and input gradient, with odd shapes, bias, alpha and
// accumulation. That the f16 block compiles is checked by test/compile_null_backend.test.ts (Dawn's Null
// backend, which has shader-f16 but runs nothing); what stays untested here: that it runs on a real adapter.
import { describe, expect, test } from 'vitest';
import { defineKernel } from '../src/gpu/kernel';
import {
  MATMUL_PACKED16_TILED_F16_BACKWARD,
  MATMUL_PACKED16_TILED_F16_FORWARD,
  PACKED16_F16_TILES,
  packed16Dispatch,
} from '../src/gpu/kernels/matmul_packed16_variants';
import * as ref from '../src/reference/packed16';
import { compare } from '../src/selftest/check';
import { Rng, randn } from '../src/util/random';
import { testGpu } from './gpu';
import { stripComments } from './wgsl_layout';

const F16_LINES: [string, string][] = [
  ['enable f16;\n', ''],
  ['alias tile_s = f16;', 'alias tile_s = f32;'],
  ['alias tile_v = vec4<f16>;', 'alias tile_v = vec4f;'],
  ['return bitcast<vec2<f16>>(u);', 'return unpack2x16float(u);'],
];

function asF32(k: typeof MATMUL_PACKED16_TILED_F16_FORWARD | typeof MATMUL_PACKED16_TILED_F16_BACKWARD) {
  let source = k.source;
  for (const [from, to] of F16_LINES) {
    expect(source.split(from).length - 1, `${k.name} holds "${from.trim()}" once`).toBe(1);
    source = source.replace(from, to);
  }
  expect(stripComments(source)).not.toMatch(/\bf16\b/); // nothing f16 left outside comments
  return defineKernel({ name: `${k.name} (f16 lines as f32)`, source, params: k.params, buffers: k.buffers });
}

describe('shader-f16 packed matmuls without their f16 lines', () => {
  test('every tile shape matches the reference, forward and backward', async () => {
    const gpu = await testGpu();
    const fwd = asF32(MATMUL_PACKED16_TILED_F16_FORWARD);
    const bwd = asF32(MATMUL_PACKED16_TILED_F16_BACKWARD);
    const rng = new Rng(21);
    const failures: string[] = [];
    let cases = 0;
    for (const path of Object.keys(PACKED16_F16_TILES) as (keyof typeof PACKED16_F16_TILES)[]) {
      for (const [M, K, N] of [[1, 2, 1], [7, 10, 13], [70, 34, 72], [9, 130, 65]]) {
        const x = randn(M * K, rng);
        const wp = ref.pack16(randn(N * K, rng, 0.5), 'f16');
        const bias = randn(N, rng);
        const init = randn(M * N, rng);
        const tx = gpu.upload(x, [M, K], 'x');
        const tw = gpu.upload(wp, [N, K / 2], 'w16', 'u32');
        const tb = gpu.upload(bias, [N], 'bias');
        const ty = gpu.upload(init, [M, N], 'y');
        const f = packed16Dispatch(path, { dir: 'forward', format: 'f16', M, K, N });
        gpu.run(fwd, { x: tx, w: tw, bias: tb, out: ty }, { M, K, N, tiles_m: f.tiles_m, alpha: 0.5, accumulate: 1, has_bias: 1 }, f.workgroups, f.overrides);
        const y = Float32Array.from(init);
        ref.matmulPacked16Forward(y, x, wp, bias, M, K, N, 'f16', 0.5, true);
        const rf = compare(path, `forward M=${M} K=${K} N=${N}`, 'y', await gpu.read(ty), y);
        const dy = randn(M * N, rng);
        const dxInit = randn(M * K, rng);
        const tdy = gpu.upload(dy, [M, N], 'dy');
        const tdx = gpu.upload(dxInit, [M, K], 'dx');
        const b = packed16Dispatch(path, { dir: 'backward', format: 'f16', M, K, N });
        gpu.run(bwd, { dy: tdy, w: tw, dx: tdx }, { M, K, N, tiles_m: b.tiles_m, alpha: -1.5, accumulate: 1 }, b.workgroups, b.overrides);
        const dx = Float32Array.from(dxInit);
        ref.matmulPacked16Backward(dx, dy, wp, M, K, N, 'f16', -1.5, true);
        const rb = compare(path, `backward M=${M} K=${K} N=${N}`, 'dx', await gpu.read(tdx), dx);
        for (const r of [rf, rb]) {
          cases++;
          if (!r.ok) failures.push(`${r.kernel} ${r.case}: ${r.mismatches.join('; ')}`);
        }
        gpu.release(tx, tw, tb, ty, tdy, tdx);
      }
    }
    expect(cases).toBe(Object.keys(PACKED16_F16_TILES).length * 8);
    expect(failures.join('\n')).toBe('');
    expect(gpu.errors).toEqual([]);
  }, 300_000);
});
