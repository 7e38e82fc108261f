// Host wrapper for adamw.wgsl: one AdamW step over one parameter tensor, in place.
import code from '../../../shaders/adamw.wgsl?raw';
import { grid, type GpuRuntime } from '../runtime';
import { defineKernel } from '../kernel';
import { expectShape, expectSize, type Tensor } from '../tensor';
import { validateAdamWHyper, type AdamWHyper } from '../../ops/adamw';

export { validateAdamWHyper, type AdamWHyper } from '../../ops/adamw';

export const ADAMW = defineKernel({
  name: 'adamw',
  source: code,
  params: {
    n: 'u32', useClip: 'u32', clipIndex: 'u32', decay: 'f32', beta1: 'f32', oneMinusBeta1: 'f32', beta2: 'f32',
    oneMinusBeta2: 'f32', stepSize: 'f32', invSqrtBc2: 'f32', eps: 'f32',
  },
  buffers: { param: 'read_write', grad: 'read', m: 'read_write', v: 'read_write', clipScale: 'read' },
});

/**
 * One AdamW step, in place on param, m and v. clipScale: a (>= clipScaleIndex + 1) tensor whose element
 * clipScaleIndex multiplies the gradient (GradNorm's out = [norm, clipScale], so no readback is needed);
 * null = 1. Records one dispatch.
 */
export function adamwStep(
  gpu: GpuRuntime,
  param: Tensor,
  grad: Tensor,
  m: Tensor,
  v: Tensor,
  clipScale: Tensor | null,
  hp: AdamWHyper,
  clipScaleIndex = 1,
): void {
  validateAdamWHyper(hp);
  expectShape(grad, param.shape, `adamw grad (${grad.label})`);
  expectShape(m, param.shape, `adamw m (${m.label})`);
  expectShape(v, param.shape, `adamw v (${v.label})`);
  if (!Number.isInteger(clipScaleIndex) || clipScaleIndex < 0) {
    throw new Error(`adamw: clipScaleIndex must be a non-negative integer, got ${clipScaleIndex}`);
  }
  if (clipScale) expectSize(clipScale, clipScaleIndex + 1, `adamw clipScale (${clipScale.label})`);
  const n = param.size;
  const bc1 = 1 - hp.beta1 ** hp.step;
  const bc2 = 1 - hp.beta2 ** hp.step;
  gpu.run(
    ADAMW,
    // Without a clip scale, grad is bound a second time (read-only twice is allowed) and not read there.
    { param, grad, m, v, clipScale: clipScale ?? grad },
    {
      n,
      useClip: clipScale ? 1 : 0,
      clipIndex: clipScale ? clipScaleIndex : 0,
      decay: 1 - hp.lr * hp.weightDecay,
      beta1: hp.beta1,
      oneMinusBeta1: 1 - hp.beta1,
      beta2: hp.beta2,
      oneMinusBeta2: 1 - hp.beta2,
      stepSize: hp.lr / bc1,
      invSqrtBc2: 1 / Math.sqrt(bc2),
      eps: hp.eps,
    },
    grid(Math.ceil(n / 256)),
  );
}
