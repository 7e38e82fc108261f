// Dropout's mask description, shared by dropout_forward/backward's wrappers (src/gpu/kernels/dropout.ts)
// and their CPU reference (src/reference/dropout.ts): the mask is regenerated from (seed, stream) by
// Philox4x32-10, never stored.

export interface DropoutMask {
  /** probability of dropping an element, in [0, 1) */
  p: number;
  /** Philox key word 0 (u32); key word 1 is fixed ("DROP") */
  seed: number;
  /** Philox counter words 1-3 (u32 each) that name this mask; word 0 is the element index. Masks that
   * must differ need different (seed, stream); equal ones give the same mask. */
  stream: readonly [number, number, number];
}

/** Throws a message naming the bad field. */
export function validateDropoutMask(m: DropoutMask): void {
  if (!(m.p >= 0 && m.p < 1)) throw new Error(`dropout probability must be in [0, 1), got ${m.p}`);
  for (const [k, v] of [['seed', m.seed], ['stream[0]', m.stream[0]], ['stream[1]', m.stream[1]], ['stream[2]', m.stream[2]]] as const) {
    if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new Error(`dropout ${k} must be a u32, got ${v}`);
  }
}
