// Dropout's mask description, shared by dropout_forward/backward's wrappers (src/gpu/kernels/dropout.ts)
// and their CPU reference (src/reference/dropout.ts): the mask is regenerated from (seed, counter).

export interface DropoutMask {
  /** probability of dropping an element, in [0, 1) */
  p: number;
  seed: number;
  counter: number;
}

/** Throws a message naming the bad field. */
export function validateDropoutMask(m: DropoutMask): void {
  if (!(m.p >= 0 && m.p < 1)) throw new Error(`dropout probability must be in [0, 1), got ${m.p}`);
  for (const [k, v] of [['seed', m.seed], ['counter', m.counter]] as const) {
    if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new Error(`dropout ${k} must be a u32, got ${v}`);
  }
}
