// AdamW over a list of (param, grad) tensors, with global gradient-norm clipping computed on the GPU:
// the clip scale never leaves the GPU; only the norm is read back (for metrics and fault detection).

import type { GpuRuntime } from '../gpu/runtime';
import type { Tensor } from '../gpu/tensor';
import { adamwStep } from '../gpu/kernels/adamw';
import { GradNorm } from '../gpu/kernels/grad_norm';

export interface OptimizerHyper {
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  maxGradNorm: number;
}

export interface NamedParam {
  name: string;
  param: Tensor;
  grad: Tensor;
}

export class AdamW {
  readonly m: Tensor[];
  readonly v: Tensor[];
  /** optimizer steps taken (bias correction uses step + 1) */
  step = 0;
  private readonly norm: GradNorm;
  /** [norm, clipScale] */
  readonly normOut: Tensor;

  constructor(
    private readonly gpu: GpuRuntime,
    readonly params: NamedParam[],
    readonly hp: OptimizerHyper,
  ) {
    this.m = params.map((p) => gpu.zeros(p.param.shape, `${p.name}.adam_m`));
    this.v = params.map((p) => gpu.zeros(p.param.shape, `${p.name}.adam_v`));
    this.norm = new GradNorm(gpu, params.map((p) => p.grad));
    this.normOut = gpu.zeros([2], 'grad_norm');
  }

  /** Records the global gradient norm and clip scale into normOut; read it to decide whether to update
   * (a non-finite norm skips the step). */
  computeNorm(): void {
    this.norm.run(this.normOut, this.hp.maxGradNorm);
  }

  /** Records the AdamW update with the clip scale already in normOut. */
  applyUpdate(lr: number): void {
    this.step++;
    const hyper = { lr, beta1: this.hp.beta1, beta2: this.hp.beta2, eps: this.hp.eps, weightDecay: this.hp.weightDecay, step: this.step };
    this.params.forEach((p, i) => adamwStep(this.gpu, p.param, p.grad, this.m[i], this.v[i], this.normOut, hyper, 1));
  }

  zeroGrads(): void {
    for (const p of this.params) this.gpu.fillZero(p.grad);
  }

  release(): void {
    this.gpu.release(...this.m, ...this.v, this.normOut);
    this.norm.release();
  }
}
