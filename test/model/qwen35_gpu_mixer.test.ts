// Qwen3.5's Gated DeltaNet token mixer on the GPU (src/model/qwen35_linear_attention.ts) against the CPU
// reference's (src/reference/qwen35.ts): output, input gradient and every linear_attn weight's gradient, on a
// tiny random layer (grouped heads NV = 2 NK, T over two checkpoint intervals), with the delta rule's recurrent
// kernels and with its chunked ones (one chunk of T < 64: a partial chunk; and 2 chunks + 3 tokens).
import { describe, expect, test } from 'vitest';
import { matmul as gpuMatmul } from '../../src/gpu/kernels/matmul';
import type { Tensor } from '../../src/gpu/tensor';
import { chooseGdnForm, gdnBackward, gdnForward, GDN_CHECKPOINT_INTERVAL, GDN_CHUNK, releaseGdn, type GdnForm } from '../../src/model/qwen35_linear_attention';
import { linearAttnModuleDims, type LinearAttnModule } from '../../src/model/weights_qwen35';
import { matmul } from '../../src/reference/matmul';
import { gatedDeltaNetBackward, gatedDeltaNetForward } from '../../src/reference/qwen35';
import { compare } from '../../src/selftest/check';
import { Rng, randn } from '../../src/util/random';
import { testGpu } from '../gpu';
import { qwen35TinyConfig, qwen35Weights } from './qwen35_fixtures';

const TOL = { atol: 1e-4, rtol: 1e-3 };
// T = 131: conv1d.weight's gradient sums 131 f32 terms; both forms land about 3e-3 from float64 there (seen:
// chunked 3.8e-3, recurrent 3.6e-3 absolute on values near 2)
const TOL_LONG = { atol: 1e-3, rtol: 3e-3 };

describe('Qwen3.5 Gated DeltaNet mixer: GPU vs CPU reference', () => {
  test('the form: chunked from one chunk of tokens while a row\'s scratch fits a binding, recurrent otherwise', () => {
    const d = (T: number) => ({ B: 4, T, NK: 16, NV: 16, DK: 128, DV: 128, scale: 1 }); // Qwen3.5-0.8B's heads
    expect(chooseGdnForm(d(GDN_CHUNK - 1))).toBe('recurrent');
    expect(chooseGdnForm(d(GDN_CHUNK))).toBe('chunked');
    expect(chooseGdnForm(d(2048))).toBe('chunked');
    expect(chooseGdnForm(d(2049))).toBe('recurrent');
  });
  const cases: [GdnForm, number, number][] = [
    ['recurrent', 2, 2 * GDN_CHECKPOINT_INTERVAL + 3],
    ['chunked', 2, 2 * GDN_CHECKPOINT_INTERVAL + 3],
    ['chunked', 1, 2 * GDN_CHUNK + 3],
  ];
  test.each(cases)('forward output, input gradient and weight gradients (%s, B = %i, T = %i)', async (form, B, T) => {
    const gpu = await testGpu();
    const c = qwen35TinyConfig({ linear_num_key_heads: 2, linear_num_value_heads: 4, linear_key_head_dim: 5, linear_value_head_dim: 3, linear_conv_kernel_dim: 4 });
    const N = B * T;
    const C = c.hiddenSize;
    const p = 'model.layers.0';
    const host = qwen35Weights(c, 31);
    const names = [...host.keys()].filter((n) => n.startsWith(`${p}.linear_attn.`));
    const rng = new Rng(32);
    const a = randn(N * C, rng);
    const dout = randn(N * C, rng);

    // CPU reference
    const w = (name: string) => host.get(name)!.data;
    const dims = (m: LinearAttnModule) => linearAttnModuleDims(c, m);
    const saved = new Map<LinearAttnModule, Float64Array>();
    const ref = gatedDeltaNetForward(c, w, (m, x) => {
      const [OUT, IN] = dims(m);
      const y = new Float64Array(N * OUT);
      matmul(y, x, w(`${p}.linear_attn.${m}.weight`), 1, N, IN, OUT, { transB: true });
      saved.set(m, x);
      return y;
    }, p, Float64Array.from(a), B, T);
    const dW = new Map<string, Float64Array>(names.map((n) => [n, new Float64Array(host.get(n)!.data.length)]));
    const daRef = new Float64Array(N * C);
    gatedDeltaNetBackward(c, w, dW, (m, dx, dy) => {
      const [OUT, IN] = dims(m);
      matmul(dx, dy, w(`${p}.linear_attn.${m}.weight`), 1, N, OUT, IN, { accumulate: true });
      matmul(dW.get(`${p}.linear_attn.${m}.weight`)!, dy, saved.get(m)!, 1, OUT, N, IN, { transA: true, accumulate: true });
    }, p, daRef, Float64Array.from(dout), ref.saved, B, T);

    // GPU
    const tw = new Map<string, Tensor>(names.map((n) => [n, gpu.upload(host.get(n)!.data, host.get(n)!.shape, n)]));
    const tg = new Map<string, Tensor>(names.map((n) => [n, gpu.zeros(host.get(n)!.shape, `${n}.grad`)]));
    const W = (name: string) => tw.get(name)!;
    const ta = gpu.upload(a, [N, C], 'a');
    const { out, saved: s } = gdnForward(gpu, c, W, (y, x, m) => gpuMatmul(gpu, y, x, W(`${p}.linear_attn.${m}.weight`), { transB: true }), p, ta, B, T, null, form);
    expect(s.form).toBe(form);
    const tdout = gpu.upload(dout, [N, C], 'dout');
    const tda = gpu.upload(randn(N * C, rng), [N, C], 'da (overwritten)');
    const inputs: Record<LinearAttnModule, Tensor> = { in_proj_qkv: ta, in_proj_z: ta, in_proj_b: ta, in_proj_a: ta, out_proj: s.y };
    gdnBackward(gpu, c, W, (n) => tg.get(n) ?? null, (dx, dy, x, m, acc) => {
      gpuMatmul(gpu, dx, dy, W(`${p}.linear_attn.${m}.weight`), { accumulate: acc });
      expect(x).toBe(inputs[m]);
      gpuMatmul(gpu, tg.get(`${p}.linear_attn.${m}.weight`)!, dy, x, { transA: true, accumulate: true });
    }, p, tda, false, tdout, ta, s, B, T);

    const problems: string[] = [];
    const check = (what: string, got: Float32Array, want: ArrayLike<number>) => {
      const r = compare('gdn', what, what, got, Float32Array.from(want), T > 64 ? TOL_LONG : TOL);
      if (!r.ok) problems.push(`${what}: max |err| ${r.maxAbsErr}\n  ${r.mismatches.join('\n  ')}`);
    };
    check('out', await gpu.read(out), ref.out);
    check('da', await gpu.read(tda), daRef);
    for (const n of names) check(`d ${n}`, await gpu.read(tg.get(n)!), dW.get(n)!);
    expect(problems.join('\n')).toBe('');
    // the gradients are not trivially zero
    expect(Math.max(...daRef.map(Math.abs))).toBeGreaterThan(1e-2);
    releaseGdn(gpu, s);
    gpu.release(out, ta, tdout, tda, ...tw.values(), ...tg.values());
    expect(gpu.pool.stats.bytesInUse).toBeLessThanOrEqual(0);
  });
});
