import * as gpuK from '../../gpu/kernels/lora';
import * as ref from '../../reference/lora';
import { compare, merge, type KernelCheck, type CaseResult, type Tolerance } from '../check';
import { Rng, randn } from '../../util/random';
import type { GpuRuntime } from '../../gpu/runtime';
import { expectThrow } from './logprob_gather';

// [N, IN, OUT, R, scale]: single rows, sizes off the 4 x 4 blocks, ranks 1..20, and reductions long enough
// to be split into chunks (K = IN or OUT > LORA_MIN_CHUNK for h and dh, N > LORA_MIN_CHUNK for dA and dB).
const CASES: [number, number, number, number, number][] = [
  [1, 5, 3, 1, 2],
  [7, 13, 11, 4, 0.5],
  [33, 70, 45, 8, 2],
  [5, 19, 23, 20, 1],
  [2, 150, 130, 4, 1],
  [3, 1030, 701, 16, 0.5],
  [300, 37, 21, 4, 0.25],
  [600, 9, 6, 8, 1],
];

const TOL: Tolerance = { atol: 2e-4, rtol: 2e-4 };
/** the fused forward against the two products: the same sums in the same order, so the same bits on software
 * adapters (where loraForward runs it); a hardware compiler may contract each kernel's products differently */
const sameAs = (gpu: GpuRuntime): Tolerance => (gpu.adapter.isSoftware ? { atol: 0, rtol: 0 } : { atol: 1e-6, rtol: 1e-6 });

// [N, IN, OUT, R, scale]: CASES (IN in 1 to 17 chunks of h's sums), more rows and chunks, and R = 64 (the most
// the fused kernel takes)
const FUSED_CASES: [number, number, number, number, number][] = [
  ...CASES,
  [1024, 128, 128, 8, 2],
  [520, 700, 33, 40, 0.5],
  [17, 300, 200, 64, 1],
  [64, 2048, 256, 64, 0.5],
];

function shapeErrors(gpu: GpuRuntime): CaseResult[] {
  // N = 6 rows (x as (2, 3, IN) like a model's (B, T, C)), IN = 5, OUT = 3, R = 2
  const x = gpu.tensor([2, 3, 5], 'x');
  const A = gpu.tensor([2, 5], 'A');
  const B = gpu.tensor([3, 2], 'B');
  const Bt = gpu.tensor([2, 3], 'B transposed');
  const y = gpu.tensor([6, 3], 'y');
  const h = gpu.tensor([6, 2], 'h');
  const hShort = gpu.tensor([5, 2], 'h');
  const dx = gpu.tensor([6, 4], 'dx');
  const k = 'lora_forward';
  const results = [
    expectThrow(k, 'B stored (R, OUT)', () => gpuK.loraForward(gpu, y, h, x, A, Bt, 1), /B: expected shape \[OUT, 2\]/),
    expectThrow(k, 'h with too few rows', () => gpuK.loraForward(gpu, y, hShort, x, A, B, 1), /h: expected 6 rows of 2/),
    expectThrow('lora_backward', 'dx of the wrong width', () => gpuK.loraBackward(gpu, A, B, dx, y, x, h, A, B, 1), /dx: expected shape \[\.\.\., 5\]/),
    expectThrow('lora_backward', 'dA of the wrong shape', () => gpuK.loraBackward(gpu, B, B, null, y, x, h, A, B, 1), /dA: expected shape \[2, 5\]/),
  ];
  gpu.release(x, A, B, Bt, y, h, hShort, dx);
  return results;
}

/** Random x, A, B and a starting y on the GPU (h empty), and the CPU reference's y and h. */
function forwardCase(gpu: GpuRuntime, rng: Rng, n: number, inF: number, outF: number, r: number, scale: number) {
  const x = randn(n * inF, rng, 0.5);
  const A = randn(r * inF, rng, 0.5);
  const B = randn(outF * r, rng, 0.5);
  const y0 = randn(n * outF, rng);
  const y = y0.slice();
  const h = new Float32Array(n * r);
  ref.loraForward(y, h, x, A, B, scale, n, inF, outF, r);
  return {
    tx: gpu.upload(x, [n, inF], 'x'), tA: gpu.upload(A, [r, inF], 'A'), tB: gpu.upload(B, [outF, r], 'B'),
    ty: gpu.upload(y0, [n, outF], 'y'), th: gpu.tensor([n, r], 'h'), y, h, y0,
  };
}

export const checks: KernelCheck[] = [
  {
    kernel: 'lora_forward',
    async run(gpu) {
      const rng = new Rng(11);
      const results: CaseResult[] = [];
      for (const [n, inF, outF, r, scale] of CASES) {
        const { tx, tA, tB, ty, th, y, h } = forwardCase(gpu, rng, n, inF, outF, r, scale);
        gpuK.loraForwardUnfused(gpu, ty, th, tx, tA, tB, scale);
        const name = `N=${n} IN=${inF} OUT=${outF} R=${r} scale=${scale}`;
        results.push(
          merge([
            compare('lora_forward', name, 'h', await gpu.read(th), h, TOL),
            compare('lora_forward', name, 'y', await gpu.read(ty), y, TOL),
          ]),
        );
        gpu.release(tx, tA, tB, ty, th);
      }
      results.push(...shapeErrors(gpu));
      return results;
    },
  },
  {
    kernel: 'lora_fused_forward',
    async run(gpu) {
      const rng = new Rng(13);
      const results: CaseResult[] = [];
      for (const [n, inF, outF, r, scale] of FUSED_CASES) {
        const name = `N=${n} IN=${inF} OUT=${outF} R=${r} scale=${scale} (${gpuK.chunking(inF, Math.ceil(n / 4) * Math.ceil(r / 4)).chunks} chunks of IN)`;
        const { tx, tA, tB, ty, th, y, h, y0 } = forwardCase(gpu, rng, n, inF, outF, r, scale);
        const ty2 = gpu.upload(y0, [n, outF], 'y unfused');
        const th2 = gpu.tensor([n, r], 'h unfused');
        gpuK.loraForwardFused(gpu, ty, th, tx, tA, tB, scale);
        gpuK.loraForwardUnfused(gpu, ty2, th2, tx, tA, tB, scale);
        const [gy, gh] = [await gpu.read(ty), await gpu.read(th)];
        results.push(
          merge([
            compare('lora_fused_forward', name, 'h', gh, h, TOL),
            compare('lora_fused_forward', name, 'y', gy, y, TOL),
            compare('lora_fused_forward', name, 'h (as the two products)', gh, await gpu.read(th2), sameAs(gpu)),
            compare('lora_fused_forward', name, 'y (as the two products)', gy, await gpu.read(ty2), sameAs(gpu)),
          ]),
        );
        gpu.release(tx, tA, tB, ty, th, ty2, th2);
      }
      // R = 65 does not fit its registers: refused by name (loraForward takes the two products there)
      const [x, A, B, y, h] = [gpu.tensor([3, 5], 'x'), gpu.tensor([65, 5], 'A'), gpu.tensor([2, 65], 'B'), gpu.tensor([3, 2], 'y'), gpu.tensor([3, 65], 'h')];
      results.push(expectThrow('lora_fused_forward', 'R = 65', () => gpuK.loraForwardFused(gpu, y, h, x, A, B, 1), /rank 65 > 64/));
      gpu.release(x, A, B, y, h);
      return results;
    },
  },
  {
    kernel: 'lora_backward',
    async run(gpu) {
      const rng = new Rng(12);
      const results: CaseResult[] = [];
      for (const [n, inF, outF, r, scale] of CASES) {
        for (const withDx of [true, false]) {
          if (!withDx && n > 7) continue;
          const x = randn(n * inF, rng, 0.5);
          const A = randn(r * inF, rng, 0.5);
          const B = randn(outF * r, rng, 0.5);
          const h = randn(n * r, rng);
          const dy = randn(n * outF, rng, 0.5);
          // nonzero starting gradients: the kernels must add to them
          const dA0 = randn(r * inF, rng);
          const dB0 = randn(outF * r, rng);
          const dx0 = randn(n * inF, rng);
          const tx = gpu.upload(x, [n, inF], 'x');
          const tA = gpu.upload(A, [r, inF], 'A');
          const tB = gpu.upload(B, [outF, r], 'B');
          const th = gpu.upload(h, [n, r], 'h');
          const tdy = gpu.upload(dy, [n, outF], 'dy');
          const tdA = gpu.upload(dA0, [r, inF], 'dA');
          const tdB = gpu.upload(dB0, [outF, r], 'dB');
          const tdx = withDx ? gpu.upload(dx0, [n, inF], 'dx') : null;
          gpuK.loraBackward(gpu, tdA, tdB, tdx, tdy, tx, th, tA, tB, scale);
          // the other way (dh and dx chained in one dispatch, or as two products): the same bits on software adapters
          const fused = gpu.adapter.isSoftware && r <= gpuK.LORA_FUSED_MAX_RANK;
          const other = withDx && r <= gpuK.LORA_FUSED_MAX_RANK
            ? [gpu.upload(dA0, [r, inF], 'dA other'), gpu.upload(dB0, [outF, r], 'dB other'), gpu.upload(dx0, [n, inF], 'dx other')]
            : null;
          if (other) gpuK.loraBackward(gpu, other[0], other[1], other[2], tdy, tx, th, tA, tB, scale, !fused);
          const dA = dA0.slice();
          const dB = dB0.slice();
          const dx = withDx ? dx0.slice() : null;
          ref.loraBackward(dA, dB, dx, dy, x, h, A, B, scale, n, inF, outF, r);
          const name = `N=${n} IN=${inF} OUT=${outF} R=${r} scale=${scale}${withDx ? '' : ' dx=null'}`;
          const parts = [
            compare('lora_backward', name, 'dA', await gpu.read(tdA), dA, TOL),
            compare('lora_backward', name, 'dB', await gpu.read(tdB), dB, TOL),
          ];
          if (tdx && dx) parts.push(compare('lora_backward', name, 'dx', await gpu.read(tdx), dx, TOL));
          if (other && tdx) {
            const way = fused ? 'as two products' : 'chained';
            parts.push(
              compare('lora_backward', name, `dA (${way})`, await gpu.read(other[0]), await gpu.read(tdA), sameAs(gpu)),
              compare('lora_backward', name, `dB (${way})`, await gpu.read(other[1]), await gpu.read(tdB), sameAs(gpu)),
              compare('lora_backward', name, `dx (${way})`, await gpu.read(other[2]), await gpu.read(tdx), sameAs(gpu)),
            );
          }
          results.push(merge(parts));
          gpu.release(tx, tA, tB, th, tdy, tdA, tdB, tdx, ...(other ?? []));
        }
      }
      return results;
    },
  },
];
