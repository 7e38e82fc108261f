// AdamW's hyperparameters and their check, shared by adamw.wgsl's wrapper (src/gpu/kernels/adamw.ts) and
// its CPU reference (src/reference/adamw.ts).

export interface AdamWHyper {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  /** 1-based step number (bias correction uses beta^step) */
  step: number;
}

/** Throws a message naming the bad field (shared by the GPU wrapper and the CPU reference). */
export function validateAdamWHyper(hp: AdamWHyper): void {
  if (!Number.isFinite(hp.lr) || hp.lr < 0) throw new Error(`adamw: lr must be finite and >= 0, got ${hp.lr}`);
  if (!(hp.beta1 >= 0 && hp.beta1 < 1)) throw new Error(`adamw: beta1 must be in [0, 1), got ${hp.beta1}`);
  if (!(hp.beta2 >= 0 && hp.beta2 < 1)) throw new Error(`adamw: beta2 must be in [0, 1), got ${hp.beta2}`);
  if (!(hp.eps > 0) || !Number.isFinite(hp.eps)) throw new Error(`adamw: eps must be finite and > 0, got ${hp.eps}`);
  if (!Number.isFinite(hp.weightDecay) || hp.weightDecay < 0) {
    throw new Error(`adamw: weightDecay must be finite and >= 0, got ${hp.weightDecay}`);
  }
  if (!Number.isInteger(hp.step) || hp.step < 1) throw new Error(`adamw: step is 1-based, got ${hp.step}`);
}
