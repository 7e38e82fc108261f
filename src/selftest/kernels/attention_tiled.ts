// The tiled attention variants (src/gpu/kernels/attention_tiled.ts) forced in turn, forward and backward
// against the CPU reference (as the direct kernels are in attention.ts's check): `attention [tiled]` (tiles
// for this device's workgroup memory) and `attention [tiled_16k]` (tiles for 16 KiB: more dim slices).
// Each distinct head size and window is three pipelines, slow to compile on a software adapter: the cases
// cover the features with few of them.
import * as gpuK from '../../gpu/kernels/attention';
import { attentionPathUnavailable, tilesFor, type AttentionPath } from '../../gpu/kernels/attention_tiled';
import * as ref from '../../reference/attention';
import { compare, merge, type CaseResult, type KernelCheck, type Tolerance } from '../check';
import { Rng, randn } from '../../util/random';
import type { GpuRuntime } from '../../gpu/runtime';

type Dims = gpuK.AttentionDims;

// as the direct kernels' check: the float64 references within 1e-4
const TOL: Tolerance = { atol: 1e-4, rtol: 1e-4 };

const name = (d: Dims) =>
  `B=${d.B} T=${d.T} NH=${d.NH} NKV=${d.NKV} HS=${d.HS}${d.window ? ` window=${d.window}` : ''}${d.scale ? ` scale=${d.scale}` : ''}`;

/** Most of the direct kernels' cases (T = 1, rows past a tile and not multiples of one, G = 1, 2, 3, 4,
 * windows of 1, shorter than a tile and across tiles, another scale), then what the variant is for:
 * T >= 256 with HS 64 and 128 and with a window across many tiles, HS 256, and HS 72 (HS4 = 18: 7 groups of
 * rows, not a power of two). Compiling a pipeline takes most of this check's time on a software adapter (tens
 * of seconds for each head size of 64 or more and each window): the long window runs with HS 8, whose tiles
 * (8 keys) it crosses more often than HS 64's would. */
const CASES: Dims[] = [
  { B: 1, T: 1, NH: 2, NKV: 2, HS: 8 },
  { B: 2, T: 1, NH: 4, NKV: 2, HS: 64 },
  { B: 1, T: 70, NH: 2, NKV: 1, HS: 8 },
  { B: 2, T: 37, NH: 6, NKV: 2, HS: 64 },
  { B: 2, T: 13, NH: 4, NKV: 2, HS: 16, window: 5, scale: 0.125 },
  { B: 1, T: 70, NH: 2, NKV: 1, HS: 8, window: 19 },
  { B: 2, T: 9, NH: 2, NKV: 2, HS: 8, window: 1 },
  { B: 1, T: 260, NH: 2, NKV: 1, HS: 64 },
  { B: 1, T: 300, NH: 4, NKV: 1, HS: 8, window: 100 },
  { B: 1, T: 257, NH: 2, NKV: 1, HS: 128 },
  { B: 2, T: 45, NH: 2, NKV: 1, HS: 256, scale: 0.0625 },
  { B: 1, T: 33, NH: 3, NKV: 3, HS: 72 },
];

async function runCase(gpu: GpuRuntime, path: AttentionPath, d: Dims, rng: Rng): Promise<CaseResult[]> {
  const kernel = `attention [${path}]`;
  const why = attentionPathUnavailable(gpu, path, d.HS);
  if (why) return [{ kernel, case: `${name(d)}: untested here: ${why}`, ok: true, maxAbsErr: 0, mismatches: [] }];
  // the 16 KiB tiles of small heads are this device's own: [tiled] checks them (and the pipelines take long
  // to compile on software adapters)
  if (path === 'tiled_16k' && JSON.stringify(tilesFor(gpu, 'tiled_16k', d.HS)) === JSON.stringify(tilesFor(gpu, 'tiled', d.HS))) {
    return [{ kernel, case: `${name(d)}: the same tiles as attention [tiled] here`, ok: true, maxAbsErr: 0, mismatches: [] }];
  }
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
  gpuK.attentionForward(gpu, tout, tlse, tq, tk, tv, d, path);
  gpuK.attentionBackward(gpu, tdq, tdk, tdv, tdout, tq, tk, tv, tout, tlse, d, path);
  const got = { out: await gpu.read(tout), lse: await gpu.read(tlse), dq: await gpu.read(tdq), dk: await gpu.read(tdk), dv: await gpu.read(tdv) };
  gpu.release(tq, tk, tv, tdout, tout, tlse, tdq, tdk, tdv);

  const out = new Float32Array(nq);
  const lse = new Float32Array(d.B * d.NH * d.T);
  ref.attentionForward(out, lse, q, k, v, d);
  // the backward reference takes the variant's own saved out and lse, so that it checks the backward alone
  const dq = new Float32Array(nq);
  const dk = new Float32Array(nkv);
  const dv = new Float32Array(nkv);
  ref.attentionBackward(dq, dk, dv, dout, q, k, v, got.out, got.lse, d);
  return [merge([
    compare(kernel, name(d), 'out', got.out, out, TOL),
    compare(kernel, name(d), 'lse', got.lse, lse, TOL),
    compare(kernel, name(d), 'dq', got.dq, dq, TOL),
    compare(kernel, name(d), 'dk', got.dk, dk, TOL),
    compare(kernel, name(d), 'dv', got.dv, dv, TOL),
  ])];
}

function variantCheck(path: 'tiled' | 'tiled_16k'): KernelCheck {
  return {
    kernel: `attention [${path}]`,
    // the smallest head of the cases stands for all: a device that cannot fit it fits none
    unavailable: (gpu) => attentionPathUnavailable(gpu, path, 8),
    async run(gpu) {
      const rng = new Rng(17);
      const results: CaseResult[] = [];
      for (const d of CASES) results.push(...(await runCase(gpu, path, d, rng)));
      return results;
    },
  };
}

export const checks: KernelCheck[] = [variantCheck('tiled'), variantCheck('tiled_16k')];
