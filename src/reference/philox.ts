// Philox4x32-10 (Salmon, Moraes, Dror & Shaw, "Parallel random numbers: as easy as 1, 2, 3", SC 2011):
// a counter-based generator, the same bits on the CPU and in WGSL (shaders/lib/philox.wgsl holds the twin).
// Only u32 arithmetic: Math.imul for the low word, 16-bit halves for the high word of a 32x32 product.

import { splitU64 } from '../ops/sample';

const M0 = 0xd2511f53;
const M1 = 0xcd9e8d57;
const W0 = 0x9e3779b9;
const W1 = 0xbb67ae85;

/** High 32 bits of the 64-bit product a*b (a, b u32). */
export function mulhi32(a: number, b: number): number {
  const al = a & 0xffff;
  const ah = a >>> 16;
  const bl = b & 0xffff;
  const bh = b >>> 16;
  const ll = al * bl;
  const lh = al * bh;
  const hl = ah * bl;
  const hh = ah * bh;
  const mid = (ll >>> 16) + (lh & 0xffff) + (hl & 0xffff);
  return (hh + (lh >>> 16) + (hl >>> 16) + (mid >>> 16)) >>> 0;
}

/** Philox4x32-10 of counter (4 words) under key (2 words); returns 4 u32 words. */
export function philox4x32(ctr: readonly number[], key: readonly number[]): [number, number, number, number] {
  let c0 = ctr[0] >>> 0;
  let c1 = ctr[1] >>> 0;
  let c2 = ctr[2] >>> 0;
  let c3 = ctr[3] >>> 0;
  let k0 = key[0] >>> 0;
  let k1 = key[1] >>> 0;
  for (let round = 0; round < 10; round++) {
    if (round > 0) {
      k0 = (k0 + W0) >>> 0;
      k1 = (k1 + W1) >>> 0;
    }
    const hi0 = mulhi32(M0, c0);
    const lo0 = Math.imul(M0, c0) >>> 0;
    const hi1 = mulhi32(M1, c2);
    const lo1 = Math.imul(M1, c2) >>> 0;
    c0 = (hi1 ^ c1 ^ k0) >>> 0;
    c1 = lo1;
    c2 = (hi0 ^ c3 ^ k1) >>> 0;
    c3 = lo0;
  }
  return [c0, c1, c2, c3];
}

/** splitU64 lives in src/ops/sample.ts (the GPU wrapper needs it too); re-exported for this file's callers. */
export { splitU64 };

/** The sampling uniform of one row: the top 24 bits of Philox word 0 for counter (counter, row, 0)
 * under key seed, as k * 2^-24 in [0, 1). 24 bits so that the value is exact in f32 as well. */
export function sampleUniform(seed: number, counter: number, row: number): number {
  const [s0, s1] = splitU64(seed, 'seed');
  const [c0, c1] = splitU64(counter, 'counter');
  const r = philox4x32([c0, c1, row >>> 0, 0], [s0, s1])[0];
  return (r >>> 8) / 16777216;
}
