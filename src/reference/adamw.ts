// CPU reference of adamw.wgsl (same argument order as the host wrapper): one AdamW step in place, each
// element computed in float64 from the textbook formula, then stored as f32 like the GPU state.
import { validateAdamWHyper, type AdamWHyper } from '../ops/adamw';

export type { AdamWHyper };

export function adamwStep(
  param: Float32Array,
  grad: Float32Array,
  m: Float32Array,
  v: Float32Array,
  clipScale: Float32Array | null,
  hp: AdamWHyper,
  clipScaleIndex = 1,
): void {
  validateAdamWHyper(hp);
  const n = param.length;
  if (grad.length !== n || m.length !== n || v.length !== n) {
    throw new Error(`adamw reference: param ${n}, grad ${grad.length}, m ${m.length}, v ${v.length} must match`);
  }
  const scale = clipScale ? clipScale[clipScaleIndex] : 1;
  const bc1 = 1 - hp.beta1 ** hp.step;
  const bc2 = 1 - hp.beta2 ** hp.step;
  for (let i = 0; i < n; i++) {
    const g = grad[i] * scale;
    let p = param[i];
    p -= hp.lr * hp.weightDecay * p;
    const mi = hp.beta1 * m[i] + (1 - hp.beta1) * g;
    const vi = hp.beta2 * v[i] + (1 - hp.beta2) * g * g;
    const mhat = mi / bc1;
    const vhat = vi / bc2;
    p -= (hp.lr * mhat) / (Math.sqrt(vhat) + hp.eps);
    m[i] = mi;
    v[i] = vi;
    param[i] = p;
  }
}
