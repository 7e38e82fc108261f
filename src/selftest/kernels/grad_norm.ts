import { GradNorm } from '../../gpu/kernels/grad_norm';
import type { Tensor } from '../../gpu/tensor';
import * as ref from '../../reference/grad_norm';
import { compare, type CaseResult, type KernelCheck, type Tolerance } from '../check';
import { Rng, randn } from '../../util/random';

// f32 sums of squares (per-invocation runs of 16, then two tree reductions) against float64.
const TOL: Tolerance = { atol: 1e-6, rtol: 2e-6 };

export const check: KernelCheck = {
  kernel: 'grad_norm',
  async run(gpu) {
    const rng = new Rng(11);
    const results: CaseResult[] = [];
    // odd sizes: single elements, less than one chunk, several chunks (4096 per workgroup), an empty tensor
    const sizes = [1, 7, 255, 4097, 0, 10007, 300, 3];
    const grads = sizes.map((n, i) => randn(n, rng, 0.01 * (i + 1)));
    const tensors = grads.map((g, i) => gpu.upload(g, [g.length], `grad ${i}`));
    const out = gpu.tensor([2], 'grad_norm out');
    const norm = new GradNorm(gpu, tensors);
    const want = new Float32Array(2);

    // The norm here is about 0.55: clip at 0.2 (scale ~0.36), not at 10, and "no clipping" as 0 and Infinity.
    for (const maxNorm of [0.2, 10, 0, Infinity]) {
      norm.run(out, maxNorm);
      ref.gradNorm(want, grads, maxNorm);
      results.push(compare('grad_norm', `${sizes.length} tensors maxNorm=${maxNorm}`, 'out', await gpu.read(out), want, TOL));
    }
    // the scratch is reused: a second run after new gradients land
    const g5 = randn(sizes[5], rng, 3);
    gpu.write(tensors[5], g5);
    grads[5] = g5;
    norm.run(out, 1);
    ref.gradNorm(want, grads, 1);
    results.push(compare('grad_norm', 'rerun after new gradients, maxNorm=1', 'out', await gpu.read(out), want, TOL));

    // non-finite gradients: NaN norm (and NaN clip scale) for a NaN or an Inf element
    for (const [what, value] of [['NaN', NaN], ['Inf', Infinity], ['-Inf', -Infinity]] as const) {
      const bad = grads[3].slice();
      bad[4000] = value;
      gpu.write(tensors[3], bad);
      norm.run(out, 1);
      const got = await gpu.read(out);
      ref.gradNorm(want, [...grads.slice(0, 3), bad, ...grads.slice(4)], 1);
      // compare() never equates NaN with NaN, so this case is judged here: both outputs must be NaN.
      const mismatches = [0, 1]
        .filter((i) => !(Number.isNaN(got[i]) && Number.isNaN(want[i])))
        .map((i) => `out[${i}] got ${got[i]} want ${want[i]}`);
      results.push({
        kernel: 'grad_norm',
        case: `one ${what} element`,
        ok: mismatches.length === 0,
        maxAbsErr: mismatches.length ? Infinity : 0,
        mismatches,
      });
    }
    gpu.write(tensors[3], grads[3]);

    // finite but huge gradients: the f32 sum of squares overflows, so the norm is +Inf and clipScale 0
    {
      const huge = new Float32Array([3e19, -2e19, 1]);
      const t = gpu.upload(huge, [3], 'huge grad');
      const hn = new GradNorm(gpu, [t, tensors[0]]);
      hn.run(out, 1);
      ref.gradNorm(want, [huge, grads[0]], 1);
      results.push(compare('grad_norm', 'overflowing sum of squares', 'out', await gpu.read(out), want, TOL));
      hn.release();
      gpu.release(t);
    }

    // one large tensor that needs many partials, with and without clipping
    {
      const n = 300_001;
      const big = randn(n, rng, 0.002);
      const t = gpu.upload(big, [n], 'big grad');
      const bn = new GradNorm(gpu, [t]);
      for (const maxNorm of [0.5, 5]) {
        bn.run(out, maxNorm);
        ref.gradNorm(want, [big], maxNorm);
        results.push(compare('grad_norm', `N=${n} maxNorm=${maxNorm}`, 'out', await gpu.read(out), want, TOL));
      }
      bn.release();
      gpu.release(t);
    }

    norm.release();
    gpu.release(out, ...(tensors as Tensor[]));
    return results;
  },
};
