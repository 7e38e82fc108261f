import * as gpuK from '../../gpu/kernels/adamw';
import * as ref from '../../reference/adamw';
import { compare, merge, type CaseResult, type KernelCheck, type Tolerance } from '../check';
import { Rng, randn } from '../../util/random';

// Param, m and v are stored as f32 after every step on both sides; the GPU computes the update in f32
// (sqrt and division within a few ulp), the reference in float64, so they drift apart by a few ulp a step.
const TOL: Tolerance = { atol: 1e-6, rtol: 1e-5 };

export const check: KernelCheck = {
  kernel: 'adamw',
  async run(gpu) {
    const rng = new Rng(7);
    const results: CaseResult[] = [];
    const variants: { name: string; clip: Float32Array | null; index: number; wd: number }[] = [
      { name: 'wd=0.1 clipScale=0.5', clip: new Float32Array([3.25, 0.5]), index: 1, wd: 0.1 },
      { name: 'wd=0 no clip', clip: null, index: 1, wd: 0 },
      { name: 'wd=0.01 clipScale[0]=0.25', clip: new Float32Array([0.25]), index: 0, wd: 0.01 },
    ];
    for (const n of [1, 257, 5003]) {
      for (const variant of variants) {
        const param = randn(n, rng);
        const m = new Float32Array(n);
        const v = new Float32Array(n);
        const tp = gpu.upload(param, [n], 'param');
        const tm = gpu.zeros([n], 'm');
        const tv = gpu.zeros([n], 'v');
        const tg = gpu.tensor([n], 'grad');
        const tclip = variant.clip ? gpu.upload(variant.clip, [variant.clip.length], 'clipScale') : null;
        for (let step = 1; step <= 10; step++) {
          // Gradients of varied magnitude, some tiny (where eps matters), on a fresh draw each step.
          const grad = randn(n, rng, step % 3 === 0 ? 1e-4 : 0.3);
          gpu.write(tg, grad);
          const hp: gpuK.AdamWHyper = { lr: 1e-2, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: variant.wd, step };
          gpuK.adamwStep(gpu, tp, tg, tm, tv, tclip, hp, variant.index);
          ref.adamwStep(param, grad, m, v, variant.clip, hp, variant.index);
          if (step === 1 || step === 10) {
            const name = `N=${n} ${variant.name} step=${step}`;
            results.push(
              merge([
                compare('adamw', name, 'param', await gpu.read(tp), param, TOL),
                compare('adamw', name, 'm', await gpu.read(tm), m, TOL),
                compare('adamw', name, 'v', await gpu.read(tv), v, TOL),
              ]),
            );
          }
        }
        gpu.release(tp, tm, tv, tg, tclip);
      }
    }
    return results;
  },
};
