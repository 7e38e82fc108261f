// Host-side quantisers for base_precision "q8_0" / "q4_k" (quantisation at load of safetensors / llama2.c
// models), written from ggml-quants.c's quantize_row_q8_0_ref and quantize_row_q4_K_ref (with its
// make_qkx2_quants search). Output: ggml's block bytes, word-aligned as the quantised kernels read them
// (repackBlocks layout: Q8_0's 34-byte blocks padded to 36; Q4_K's 144 bytes need no padding).
// Arithmetic is f32 as in C (Math.fround at each step); nearest_int rounds half to even as ggml's does.

import { blockWords, ggmlType, type GgmlTypeName } from './ggml_types';

const f = Math.fround;
const f32b = new Float32Array(1);
const u32b = new Uint32Array(f32b.buffer);

/** f32 -> IEEE half bits, round to nearest even (GGML_FP32_TO_FP16). */
export function floatToHalf(x: number): number {
  f32b[0] = x;
  const b = u32b[0];
  const sign = (b >>> 16) & 0x8000;
  const e = (b >>> 23) & 0xff;
  let m = b & 0x7fffff;
  if (e === 0xff) return sign | 0x7c00 | (m ? 0x200 : 0);
  let ex = e - 127 + 15;
  if (ex >= 31) return sign | 0x7c00;
  if (ex <= 0) {
    if (ex < -10) return sign;
    m |= 0x800000;
    const shift = 14 - ex;
    let h = m >>> shift;
    const rem = m & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    if (rem > half || (rem === half && (h & 1))) h++;
    return sign | h;
  }
  let h = (ex << 10) | (m >>> 13);
  const rem = m & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && (h & 1))) h++;
  void ex;
  return sign | h; // a carry out of the mantissa moves into the exponent (up to Inf), as intended
}

function halfToF32(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 31;
  const m = h & 1023;
  if (e === 31) return m ? NaN : s * Infinity;
  return e === 0 ? s * m * 2 ** -24 : s * (1 + m / 1024) * 2 ** (e - 15);
}

/** ggml's nearest_int: round to nearest, ties to even (the 1.5 * 2^23 trick), for |x| < 2^22. */
function nearestInt(x: number): number {
  return f(f(x) + 12582912) - 12582912;
}

/** C's roundf: halves away from zero. */
const roundAway = (x: number) => (x < 0 ? -Math.round(-x) : Math.round(x));

/** quantize_row_q8_0_ref over a row (length a multiple of 32), into `out` bytes at `o` (block stride `stride`). */
function quantQ8_0Blocks(x: Float32Array, out: Uint8Array, stride: number): void {
  const nb = x.length / 32;
  for (let i = 0; i < nb; i++) {
    let amax = 0;
    for (let j = 0; j < 32; j++) amax = Math.max(amax, Math.abs(x[i * 32 + j]));
    const d = f(amax / 127);
    const id = d ? f(1 / d) : 0;
    const dh = floatToHalf(d);
    const o = i * stride;
    out[o] = dh & 0xff;
    out[o + 1] = dh >> 8;
    for (let j = 0; j < 32; j++) out[o + 2 + j] = roundAway(f(x[i * 32 + j] * id)) & 0xff;
  }
}

/** make_qkx2_quants(n, nmax, x, weights, L, &the_min, Laux, rmin, rdelta, nstep, use_mad = false) */
function makeQkx2Quants(x: Float32Array, w: Float32Array, nmax: number, L: Uint8Array, rmin: number, rdelta: number, nstep: number): { scale: number; theMin: number } {
  const n = x.length;
  let min = x[0];
  let max = x[0];
  let sumW = w[0];
  let sumX = f(sumW * x[0]);
  for (let i = 1; i < n; i++) {
    if (x[i] < min) min = x[i];
    if (x[i] > max) max = x[i];
    sumW = f(sumW + w[i]);
    sumX = f(sumX + f(w[i] * x[i]));
  }
  if (min > 0) min = 0;
  if (max === min) {
    L.fill(0);
    return { scale: 0, theMin: -min };
  }
  let iscale = f(nmax / f(max - min));
  let scale = f(1 / iscale);
  let bestError = 0;
  for (let i = 0; i < n; i++) {
    const l = nearestInt(f(iscale * f(x[i] - min)));
    L[i] = Math.max(0, Math.min(nmax, l));
    const diff = f(f(f(scale * L[i]) + min) - x[i]);
    bestError = f(bestError + f(w[i] * f(diff * diff)));
  }
  const Laux = new Uint8Array(n);
  for (let is = 0; is <= nstep; is++) {
    iscale = f(f(f(rmin + f(rdelta * is)) + nmax) / f(max - min));
    let sumL = 0;
    let sumL2 = 0;
    let sumXL = 0;
    for (let i = 0; i < n; i++) {
      const l = Math.max(0, Math.min(nmax, nearestInt(f(iscale * f(x[i] - min)))));
      Laux[i] = l;
      sumL = f(sumL + f(w[i] * l));
      sumL2 = f(sumL2 + f(f(w[i] * l) * l));
      sumXL = f(sumXL + f(f(w[i] * l) * x[i]));
    }
    const D = f(f(sumW * sumL2) - f(sumL * sumL));
    if (D > 0) {
      let thisScale = f(f(f(sumW * sumXL) - f(sumX * sumL)) / D);
      let thisMin = f(f(f(sumL2 * sumX) - f(sumL * sumXL)) / D);
      if (thisMin > 0) {
        thisMin = 0;
        thisScale = f(sumXL / sumL2);
      }
      let cur = 0;
      for (let i = 0; i < n; i++) {
        const diff = f(f(f(thisScale * Laux[i]) + thisMin) - x[i]);
        cur = f(cur + f(w[i] * f(diff * diff)));
      }
      if (cur < bestError) {
        L.set(Laux);
        bestError = cur;
        scale = thisScale;
        min = thisMin;
      }
    }
  }
  return { scale, theMin: -min };
}

/** quantize_row_q4_K_ref over a row (length a multiple of 256), 144-byte blocks. */
function quantQ4_KBlocks(x: Float32Array, out: Uint8Array, stride: number): void {
  const nb = x.length / 256;
  const L = new Uint8Array(256);
  const w = new Float32Array(32);
  const scales = new Float32Array(8);
  const mins = new Float32Array(8);
  for (let i = 0; i < nb; i++) {
    const xb = x.subarray(i * 256, i * 256 + 256);
    const o = i * stride;
    let maxScale = 0;
    let maxMin = 0;
    for (let j = 0; j < 8; j++) {
      const xs = xb.subarray(32 * j, 32 * j + 32);
      let sumX2 = 0;
      for (let l = 0; l < 32; l++) sumX2 = f(sumX2 + f(xs[l] * xs[l]));
      const avX = f(Math.sqrt(f(sumX2 / 32)));
      for (let l = 0; l < 32; l++) w[l] = f(avX + Math.abs(xs[l]));
      const r = makeQkx2Quants(xs, w, 15, L.subarray(32 * j, 32 * j + 32), -1, 0.1, 20);
      scales[j] = r.scale;
      mins[j] = r.theMin;
      if (r.scale > maxScale) maxScale = r.scale;
      if (r.theMin > maxMin) maxMin = r.theMin;
    }
    const invScale = maxScale > 0 ? f(63 / maxScale) : 0;
    const invMin = maxMin > 0 ? f(63 / maxMin) : 0;
    const sc = out.subarray(o + 4, o + 16);
    sc.fill(0);
    for (let j = 0; j < 8; j++) {
      const ls = Math.min(63, nearestInt(f(invScale * scales[j])));
      const lm = Math.min(63, nearestInt(f(invMin * mins[j])));
      if (j < 4) {
        sc[j] = ls;
        sc[j + 4] = lm;
      } else {
        sc[j + 4] = (ls & 0xf) | ((lm & 0xf) << 4);
        sc[j - 4] |= (ls >> 4) << 6;
        sc[j] |= (lm >> 4) << 6;
      }
    }
    const dh = floatToHalf(f(maxScale / 63));
    const mh = floatToHalf(f(maxMin / 63));
    out[o] = dh & 0xff;
    out[o + 1] = dh >> 8;
    out[o + 2] = mh & 0xff;
    out[o + 3] = mh >> 8;
    for (let j = 0; j < 8; j++) {
      const s = j < 4 ? sc[j] & 63 : (sc[j + 4] & 0xf) | ((sc[j - 4] >> 6) << 4);
      const m = j < 4 ? sc[j + 4] & 63 : (sc[j + 4] >> 4) | ((sc[j] >> 6) << 4);
      const d = f(halfToF32(dh) * s);
      if (!d) continue;
      const dm = f(halfToF32(mh) * m);
      for (let ii = 0; ii < 32; ii++) L[32 * j + ii] = Math.max(0, Math.min(15, nearestInt(f(f(xb[32 * j + ii] + dm) / d))));
    }
    for (let j = 0, q = o + 16; j < 256; j += 64, q += 32) {
      for (let l = 0; l < 32; l++) out[q + l] = L[j + l] | (L[j + l + 32] << 4);
    }
  }
}

/** The block types base_precision can quantise to at load. */
export type LoadQuantType = Extract<GgmlTypeName, 'Q8_0' | 'Q4_K'>;

/** A (rows, cols) f32 matrix quantised row by row into word-aligned blocks (cols a multiple of the block size). */
export function quantizeMatrix(data: Float32Array, rows: number, cols: number, type: LoadQuantType): Uint32Array {
  const t = ggmlType(type);
  if (cols % t.blockSize) throw new Error(`quantizeMatrix ${type}: rows of ${cols} values are not whole ${t.blockSize}-value blocks`);
  const stride = blockWords(t) * 4;
  const words = new Uint32Array(rows * (cols / t.blockSize) * blockWords(t));
  const bytes = new Uint8Array(words.buffer);
  const rowBytes = (cols / t.blockSize) * stride;
  for (let r = 0; r < rows; r++) {
    const x = data.subarray(r * cols, (r + 1) * cols);
    const out = bytes.subarray(r * rowBytes, (r + 1) * rowBytes);
    if (type === 'Q8_0') quantQ8_0Blocks(x, out, stride);
    else quantQ4_KBlocks(x, out, stride);
  }
  return words;
}
