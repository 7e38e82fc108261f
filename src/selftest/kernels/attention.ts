// Training attention (attention_forward.wgsl, attention_backward_*.wgsl) against src/reference/attention.ts.
// The decode and KV-cache cases are in ./attention_decode.ts.
import * as gpuK from '../../gpu/kernels/attention';
import * as ref from '../../reference/attention';
import { compare, merge, type CaseResult, type KernelCheck, type Tolerance } from '../check';
import { Rng, randn } from '../../util/random';
import type { GpuRuntime } from '../../gpu/runtime';

type Dims = gpuK.AttentionDims;

// measured: forward within 1e-6, backward within 4e-6 of the float64 references
const FWD_TOL: Tolerance = { atol: 1e-4, rtol: 1e-4 };
const BWD_TOL: Tolerance = { atol: 1e-4, rtol: 1e-4 };

/** Which forms of the direct kernels a case runs (default: the ones chooseForwardForm / chooseBackwardForm pick). */
interface Forms {
  forward?: gpuK.AttentionForwardForm;
  backward?: gpuK.AttentionBackwardForm;
}

const name = (d: Dims, f: Forms = {}) =>
  `B=${d.B} T=${d.T} NH=${d.NH} NKV=${d.NKV} HS=${d.HS}${d.window ? ` window=${d.window}` : ''}${d.scale ? ` scale=${d.scale}` : ''}` +
  `${f.forward ? ` ${f.forward}` : ''}${f.backward ? ` ${f.backward}` : ''}`;

/** Forward and backward against the reference: NH == NKV and NH > NKV (G = 2, 3), T = 1, T and rows
 * (T * G) past one tile and not multiples of any tile, head sizes 8, 16, 64. */
const TRAINING_CASES: Dims[] = [
  { B: 1, T: 1, NH: 2, NKV: 2, HS: 8 },
  { B: 2, T: 1, NH: 4, NKV: 2, HS: 64 },
  { B: 2, T: 7, NH: 4, NKV: 4, HS: 8 },
  { B: 2, T: 13, NH: 4, NKV: 2, HS: 16 },
  { B: 1, T: 70, NH: 2, NKV: 1, HS: 8 },
  { B: 1, T: 20, NH: 2, NKV: 2, HS: 64 },
  { B: 2, T: 37, NH: 6, NKV: 2, HS: 64 },
  // sliding windows (Gemma): shorter than a tile, across tile boundaries, 1 (only itself); another scale
  { B: 2, T: 13, NH: 4, NKV: 2, HS: 16, window: 5, scale: 0.125 },
  { B: 1, T: 70, NH: 2, NKV: 1, HS: 8, window: 19 },
  { B: 1, T: 40, NH: 4, NKV: 1, HS: 64, window: 17 },
  { B: 2, T: 9, NH: 2, NKV: 2, HS: 8, window: 1 },
  // the built-in model's shape (B reduced): the single-tile forward and the fused backward by default
  { B: 2, T: 16, NH: 4, NKV: 4, HS: 32 },
];

/** Short sequences run the single-tile forward and the fused backward by default (chooseForwardForm /
 * chooseBackwardForm): these run the other forms too, and the short forms forced where not chosen. */
const FORM_CASES: [Dims, Forms][] = [
  [{ B: 2, T: 16, NH: 4, NKV: 4, HS: 32 }, { forward: 'online', backward: 'two_pass' }],
  [{ B: 2, T: 13, NH: 4, NKV: 2, HS: 16, window: 5, scale: 0.125 }, { forward: 'online', backward: 'two_pass' }],
  [{ B: 2, T: 11, NH: 6, NKV: 2, HS: 64 }, { forward: 'online', backward: 'two_pass' }],
  [{ B: 2, T: 11, NH: 6, NKV: 2, HS: 64 }, {}],
  [{ B: 1, T: 20, NH: 4, NKV: 2, HS: 8, window: 9 }, { forward: 'single_tile', backward: 'fused' }],
];

async function trainingCase(gpu: GpuRuntime, d: Dims, rng: Rng, f: Forms = {}): Promise<CaseResult[]> {
  const nq = d.B * d.T * d.NH * d.HS;
  const nkv = d.B * d.T * d.NKV * d.HS;
  const q = randn(nq, rng, 1.5);
  const k = randn(nkv, rng);
  const v = randn(nkv, rng);
  const dout = randn(nq, rng);
  const tq = gpu.upload(q, [d.B, d.T, d.NH, d.HS], 'q');
  const tk = gpu.upload(k, [d.B, d.T, d.NKV, d.HS], 'k');
  const tv = gpu.upload(v, [d.B, d.T, d.NKV, d.HS], 'v');
  const tdout = gpu.upload(dout, [d.B, d.T, d.NH, d.HS], 'dout');
  const tout = gpu.tensor([d.B, d.T, d.NH, d.HS], 'out');
  const tlse = gpu.tensor([d.B, d.NH, d.T], 'lse');
  const tdq = gpu.tensor([d.B, d.T, d.NH, d.HS], 'dq');
  const tdk = gpu.tensor([d.B, d.T, d.NKV, d.HS], 'dk');
  const tdv = gpu.tensor([d.B, d.T, d.NKV, d.HS], 'dv');
  const path = f.forward || f.backward ? 'direct' : undefined; // forms are the direct path's
  gpuK.attentionForward(gpu, tout, tlse, tq, tk, tv, d, path, null, f.forward);
  gpuK.attentionBackward(gpu, tdq, tdk, tdv, tdout, tq, tk, tv, tout, tlse, d, path, null, f.backward);

  const out = new Float32Array(nq);
  const lse = new Float32Array(d.B * d.NH * d.T);
  ref.attentionForward(out, lse, q, k, v, d);
  const gotOut = await gpu.read(tout);
  const gotLse = await gpu.read(tlse);
  const fwd = merge([
    compare('attention_forward', name(d, f), 'out', gotOut, out, FWD_TOL),
    compare('attention_forward', name(d, f), 'lse', gotLse, lse, FWD_TOL),
  ]);
  // the backward reference takes the GPU's own saved out and lse, so that it checks the backward alone
  const dq = new Float32Array(nq);
  const dk = new Float32Array(nkv);
  const dv = new Float32Array(nkv);
  ref.attentionBackward(dq, dk, dv, dout, q, k, v, gotOut, gotLse, d);
  const bwd = merge([
    compare('attention_backward', name(d, f), 'dq', await gpu.read(tdq), dq, BWD_TOL),
    compare('attention_backward', name(d, f), 'dk', await gpu.read(tdk), dk, BWD_TOL),
    compare('attention_backward', name(d, f), 'dv', await gpu.read(tdv), dv, BWD_TOL),
  ]);
  gpu.release(tq, tk, tv, tdout, tout, tlse, tdq, tdk, tdv);
  return [fwd, bwd];
}

export const checks: KernelCheck[] = [
  {
    kernel: 'attention',
    async run(gpu) {
      const rng = new Rng(7);
      const results: CaseResult[] = [];
      for (const d of TRAINING_CASES) results.push(...(await trainingCase(gpu, d, rng)));
      // the fused backward needs 9 storage buffers per stage; elsewhere its forced cases run the two passes
      const fusedOk = gpu.device.limits.maxStorageBuffersPerShaderStage >= gpuK.FUSED_BACKWARD_STORAGE_BUFFERS;
      for (const [d, f] of FORM_CASES) {
        results.push(...(await trainingCase(gpu, d, rng, f.backward === 'fused' && !fusedOk ? { ...f, backward: 'two_pass' } : f)));
      }
      return results;
    },
  },
];
