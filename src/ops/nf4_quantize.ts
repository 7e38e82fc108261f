// Host-side NF4 quantisation for base_precision "nf4" / "nf4_dq" (quantisation at load), as bitsandbytes defines
// it (QLoRA's 4-bit NormalFloat; bitsandbytes' csrc/kernels.cu kQuantizeBlockwise with DATA_TYPE NF4 and
// functional.py quantize_4bit):
//   - blocks of 64 consecutive values of the flattened tensor; absmax = max |x| per block (f32);
//   - each value x * (1 / absmax) (f32 reciprocal, then an f32 product, as the CUDA kernel) is coded by
//     dQuantizeNF4's comparison tree (strict `>` against its 15 f32 thresholds, the midpoints of neighbouring levels);
//   - two codes per byte, the first (even index) value in the HIGH nibble;
//   - dequantised value = NF4_CODE[q] * absmax (f32 product; bitsandbytes then rounds it to the compute dtype).
//   An all-zero block has absmax 0: 0 * (1 / 0) is NaN, which the tree codes 0 (-1.0); its values dequantise to
//   -1.0 * 0 = -0 (and, under double quantisation, to -1.0 times the block's nested-dequantised absmax, as in bitsandbytes).
// Double quantisation (bnb_4bit_use_double_quant, functional.py quantize_4bit with compress_statistics=True):
//   offset = mean(absmax) over the whole tensor; (absmax - offset) quantised by quantize_blockwise: blocks of 256
//   absmax values, each with its own f32 absmax2, coded on create_dynamic_map(signed=True) (256 f32 levels) by
//   dQuantize<0>'s binary search and midpoint choice (the nearest level); absmax is then rebuilt as code8[q] * absmax2 + offset (f32).
// Where this can differ from a given bitsandbytes build in the last bit: the offset is the mean summed in f64 and
// rounded to f32 (torch's f32 reduction order may differ); the dynamic map's linspace uses torch's scalar formula
// (start + step * i below halfway, end - step * (n - 1 - i) above), a vectorised torch build may round a level differently.
// Output for the GPU (nf4Words): NF4 (no double quantisation): per 64-value block 9 u32 words: word 0 the block's
// f32 absmax, words 1..8 its 32 bytes of codes in bitsandbytes' packed order (byte j = q[2j] << 4 | q[2j+1]).
// NF4_DQ (double quantisation): what bitsandbytes stores, in its order: the 32 code bytes of every block (row
// order), then the 8-bit absmax code of every block (byte g of the region for block g, padded to a word), the f32
// absmax2 of every 256 blocks, the f32 offset (ggml_types.ts quantSideWords). A value dequantises to
// NF4_CODE[q] * (code8[qabsmax[g]] * absmax2[g >> 8] + offset), each step an f32 operation (dequantizeAbsmax).

const f = Math.fround;

/** bitsandbytes' nf4_dequantization_lut (the 16 NF4 levels, as f32). */
export const NF4_CODE: Float32Array = new Float32Array([
  -1.0, -0.6961928009986877, -0.5250730514526367, -0.39491748809814453, -0.28444138169288635, -0.18477343022823334,
  -0.09105003625154495, 0.0, 0.07958029955625534, 0.16093020141124725, 0.24611230194568634, 0.33791524171829224,
  0.44070982933044434, 0.5626170039176941, 0.7229568362236023, 1.0,
]);

// dQuantizeNF4's thresholds (C float literals: rounded to f32)
const T = {
  m0: f(0.03979014977812767),
  p1: f(0.3893125355243683), p11: f(0.6427869200706482), p111: f(0.8614784181118011), p110: f(0.5016634166240692),
  p10: f(0.2035212516784668), p101: f(0.2920137718319893), p100: f(0.1202552504837513),
  n0: f(-0.33967943489551544), n01: f(-0.13791173323988914), n011: f(-0.045525018125772476), n010: f(-0.23460740596055984),
  n00: f(-0.6106329262256622), n001: f(-0.4599952697753906), n000: f(-0.8480964004993439),
};

/** bitsandbytes' dQuantizeNF4: the 4-bit code of a normalised value x (NaN -> 0). */
export function quantizeNf4Value(x: number): number {
  if (x > T.m0) {
    if (x > T.p1) {
      if (x > T.p11) return x > T.p111 ? 0b1111 : 0b1110;
      return x > T.p110 ? 0b1101 : 0b1100;
    }
    if (x > T.p10) return x > T.p101 ? 0b1011 : 0b1010;
    return x > T.p100 ? 0b1001 : 0b1000;
  }
  if (x > T.n0) {
    if (x > T.n01) return x > T.n011 ? 0b0111 : 0b0110;
    return x > T.n010 ? 0b0101 : 0b0100;
  }
  if (x > T.n00) return x > T.n001 ? 0b0011 : 0b0010;
  return x > T.n000 ? 0b0001 : 0b0000;
}

/** bitsandbytes' quantize_4bit (quant_type "nf4", blocksize 64) of a flat tensor (length a multiple of 64):
 * packed codes (n / 2 bytes, first value in the high nibble) and the f32 absmax of each block. */
export function quantizeNf4(x: Float32Array): { packed: Uint8Array; absmax: Float32Array } {
  if (x.length % 64) throw new Error(`quantizeNf4: ${x.length} values are not whole 64-value blocks`);
  const nb = x.length / 64;
  const packed = new Uint8Array(x.length / 2);
  const absmax = new Float32Array(nb);
  for (let b = 0; b < nb; b++) {
    let amax = 0;
    for (let j = 0; j < 64; j++) amax = Math.max(amax, Math.abs(x[b * 64 + j]));
    absmax[b] = amax;
    const inv = f(1 / amax);
    for (let j = 0; j < 32; j++) {
      const hi = quantizeNf4Value(f(x[b * 64 + 2 * j] * inv));
      const lo = quantizeNf4Value(f(x[b * 64 + 2 * j + 1] * inv));
      packed[b * 32 + j] = (hi << 4) | lo;
    }
  }
  return { packed, absmax };
}

/** bitsandbytes' dequantize_4bit (nf4) in f32: NF4_CODE[q] * absmax[block]. */
export function dequantizeNf4(packed: Uint8Array, absmax: Float32Array): Float32Array {
  const out = new Float32Array(packed.length * 2);
  for (let i = 0; i < packed.length; i++) {
    const a = absmax[i >> 5];
    out[2 * i] = f(NF4_CODE[packed[i] >> 4] * a);
    out[2 * i + 1] = f(NF4_CODE[packed[i] & 15] * a);
  }
  return out;
}

/** torch.linspace(start, end, steps) in float32 (ATen's scalar linspace kernel). */
function linspace32(start: number, end: number, steps: number): Float32Array {
  const out = new Float32Array(steps);
  const s = f(start);
  const e = f(end);
  if (steps === 1) {
    out[0] = s;
    return out;
  }
  const step = f(f(e - s) / (steps - 1));
  const half = Math.floor(steps / 2);
  for (let i = 0; i < steps; i++) out[i] = i < half ? f(s + f(step * i)) : f(e - f(step * (steps - i - 1)));
  return out;
}

let dynamicMap: Float32Array | null = null;

/** bitsandbytes' create_dynamic_map(signed=True, max_exponent_bits=7, total_bits=8): 256 sorted f32 levels in [-1, 1]. */
export function createDynamicMap(): Float32Array {
  if (dynamicMap) return dynamicMap;
  const data: number[] = [];
  const maxExp = 7;
  for (let i = 0; i < maxExp; i++) {
    const items = 2 ** i + 1; // 2 ** (i + non_sign_bits - max_exponent_bits) + 1, non_sign_bits = 7
    const b = linspace32(0.1, 1, items);
    const scale = 10 ** (-(maxExp - 1) + i);
    const means: number[] = [];
    for (let k = 0; k + 1 < items; k++) means.push(f(f(b[k] + b[k + 1]) / 2));
    for (const m of means) data.push(f(f(scale) * m));
    for (const m of means) data.push(f(f(-scale) * m));
  }
  // additional_items = 2 ** (7 - 7) - 1 = 0: none
  data.push(0, 1);
  if (data.length !== 256) throw new Error(`createDynamicMap: ${data.length} levels`);
  data.sort((a, b) => a - b);
  return (dynamicMap = new Float32Array(data));
}

/** bitsandbytes' dQuantize<0> (non-stochastic): a binary search over the 256 sorted levels (7 halvings from 127),
 * then the last pivot or its bracketing neighbour, split at their f32 midpoint. */
export function quantizeDynamicValue(code: Float32Array, x: number): number {
  let pivot = 127;
  let upperPivot = 255;
  let lowerPivot = 0;
  let lower = -1;
  let upper = 1;
  let val = code[pivot];
  for (let i = 64; i > 0; i >>= 1) {
    if (x > val) {
      lowerPivot = pivot;
      lower = val;
      pivot += i;
    } else {
      upperPivot = pivot;
      upper = val;
      pivot -= i;
    }
    val = code[pivot];
  }
  if (upperPivot === 255) upper = code[upperPivot];
  if (lowerPivot === 0) lower = code[lowerPivot];
  if (x > val) return x > f(f(upper + val) * 0.5) ? upperPivot : pivot;
  return x < f(f(lower + val) * 0.5) ? lowerPivot : pivot;
}

/** bitsandbytes' quantize_blockwise (8-bit, dynamic map, blocks of `blocksize`): codes and each block's f32 absmax. */
export function quantizeBlockwise8(x: Float32Array, blocksize = 256): { q: Uint8Array; absmax: Float32Array } {
  const code = createDynamicMap();
  const nb = Math.ceil(x.length / blocksize);
  const q = new Uint8Array(x.length);
  const absmax = new Float32Array(nb);
  for (let b = 0; b < nb; b++) {
    const end = Math.min(x.length, (b + 1) * blocksize);
    let amax = 0;
    for (let i = b * blocksize; i < end; i++) amax = Math.max(amax, Math.abs(x[i]));
    absmax[b] = amax;
    const inv = f(1 / amax);
    for (let i = b * blocksize; i < end; i++) q[i] = quantizeDynamicValue(code, f(x[i] * inv));
  }
  return { q, absmax };
}

export interface Nf4DoubleQuant {
  /** the 8-bit code of each 64-value block's absmax */
  qabsmax: Uint8Array;
  /** f32 absmax of each block of 256 block-absmax values */
  absmax2: Float32Array;
  /** the mean of the block absmax values, subtracted before the nested quantisation */
  offset: number;
}

/** quantize_4bit's compress_statistics step: the absmax values quantised to 8 bits in blocks of 256 with their mean subtracted. */
export function doubleQuantizeAbsmax(absmax: Float32Array): Nf4DoubleQuant {
  let sum = 0;
  for (const a of absmax) sum += a;
  const offset = f(sum / absmax.length);
  const centred = new Float32Array(absmax.length);
  for (let i = 0; i < absmax.length; i++) centred[i] = f(absmax[i] - offset);
  const { q, absmax: absmax2 } = quantizeBlockwise8(centred, 256);
  return { qabsmax: q, absmax2, offset };
}

/** dequantize_4bit's rebuilding of the absmax values: dequantize_blockwise (code8[q] * absmax2) + offset, in f32. */
export function dequantizeAbsmax(dq: Nf4DoubleQuant): Float32Array {
  const code = createDynamicMap();
  const out = new Float32Array(dq.qabsmax.length);
  for (let i = 0; i < out.length; i++) out[i] = f(f(code[dq.qabsmax[i]] * dq.absmax2[i >> 8]) + dq.offset);
  return out;
}

/** Bytes bitsandbytes keeps for n values (a multiple of 64): 4-bit codes and an f32 absmax per 64, or with double
 * quantisation an 8-bit absmax per 64, an f32 absmax2 per 256 of those and one f32 offset. */
export function nf4BnbBytes(n: number, doubleQuant: boolean): number {
  const nb = n / 64;
  return n / 2 + (doubleQuant ? nb + 4 * Math.ceil(nb / 256) + 4 : 4 * nb);
}

/** A (rows, cols) f32 matrix (cols a multiple of 64) as the GPU stores it: NF4 blocks (9 words per 64 values:
 * f32 absmax, then the 32 packed code bytes), or with `doubleQuant` NF4_DQ (the code bytes of every block, then
 * the 8-bit absmax codes, the absmax2 of each 256 blocks and the offset: bitsandbytes' bytes, padded to words). */
export function nf4Words(data: Float32Array, rows: number, cols: number, doubleQuant: boolean): Uint32Array {
  if (cols % 64) throw new Error(`nf4Words: rows of ${cols} values are not whole 64-value blocks`);
  if (data.length !== rows * cols) throw new Error(`nf4Words: ${data.length} values for ${rows} x ${cols}`);
  const { packed, absmax } = quantizeNf4(data);
  const nb = absmax.length;
  if (doubleQuant) {
    const dq = doubleQuantizeAbsmax(absmax);
    const codeWords = nb * 8;
    const qWords = Math.ceil(nb / 4);
    const words = new Uint32Array(codeWords + qWords + dq.absmax2.length + 1);
    const bytes = new Uint8Array(words.buffer);
    const fw = new Float32Array(words.buffer);
    bytes.set(packed, 0);
    bytes.set(dq.qabsmax, codeWords * 4);
    fw.set(dq.absmax2, codeWords + qWords);
    fw[words.length - 1] = dq.offset;
    return words;
  }
  const words = new Uint32Array(nb * 9);
  const bytes = new Uint8Array(words.buffer);
  const fw = new Float32Array(words.buffer);
  for (let b = 0; b < nb; b++) {
    fw[b * 9] = absmax[b];
    bytes.set(packed.subarray(b * 32, b * 32 + 32), b * 36 + 4);
  }
  return words;
}

/** An NF4_DQ tensor's parts (nf4Words with doubleQuant) for `nb` blocks: the packed codes and the double quantisation. */
export function nf4DqParts(words: Uint32Array, nb: number): { packed: Uint8Array; dq: Nf4DoubleQuant } {
  const codeWords = nb * 8;
  const qWords = Math.ceil(nb / 4);
  const groups = Math.ceil(nb / 256);
  if (words.length !== codeWords + qWords + groups + 1) throw new Error(`NF4_DQ: ${words.length} words do not hold ${nb} blocks (${codeWords + qWords + groups + 1} words)`);
  const bytes = new Uint8Array(words.buffer, words.byteOffset, words.byteLength);
  const fw = new Float32Array(words.buffer, words.byteOffset, words.length);
  return {
    packed: bytes.subarray(0, codeWords * 4),
    dq: { qabsmax: bytes.subarray(codeWords * 4, codeWords * 4 + nb), absmax2: fw.subarray(codeWords + qWords, codeWords + qWords + groups), offset: fw[words.length - 1] },
  };
}
