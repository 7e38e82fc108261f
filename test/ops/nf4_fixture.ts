// The tests' own NF4 quantiser, written independently of src/ops/nf4_quantize.ts: as bitsandbytes' default (CPU)
// backend does it (scaled = x / absmax; code = argmin |scaled - level|; packed = code[2j] << 4 | code[2j+1]), the
// levels typed in from QLoRA's NF4 table (bitsandbytes' get_4bit_type("nf4")), the result in the GPU's NF4 block
// layout (ggml_types.ts LOAD_ONLY_TYPES: the f32 absmax, then the 32 code bytes). On values not within an f32 ulp
// of a midpoint between two levels, argmin and the CUDA kernel's comparison tree give the same code.
import type { Quantised } from '../model/gguf_fixtures';

export const NF4_LEVELS = [
  -1.0, -0.6961928009986877, -0.5250730514526367, -0.39491748809814453, -0.28444138169288635, -0.18477343022823334,
  -0.09105003625154495, 0.0, 0.07958029955625534, 0.16093020141124725, 0.24611230194568634, 0.33791524171829224,
  0.44070982933044434, 0.5626170039176941, 0.7229568362236023, 1.0,
];

export function nf4Argmin(scaled: number): number {
  let best = 0;
  for (let i = 1; i < 16; i++) if (Math.abs(scaled - NF4_LEVELS[i]) < Math.abs(scaled - NF4_LEVELS[best])) best = i;
  return best;
}

export function quantNf4Ref(x: Float32Array): Quantised {
  const nb = x.length / 64;
  const bytes = new Uint8Array(nb * 36);
  const values = new Float32Array(x.length);
  const dv = new DataView(bytes.buffer);
  for (let b = 0; b < nb; b++) {
    let amax = 0;
    for (let j = 0; j < 64; j++) amax = Math.max(amax, Math.abs(x[b * 64 + j]));
    dv.setFloat32(b * 36, amax, true);
    const a32 = Math.fround(amax);
    for (let j = 0; j < 64; j += 2) {
      // an all-zero block: bitsandbytes codes its NaN (0 / 0) as level 0 (-1.0)
      const hi = amax ? nf4Argmin(x[b * 64 + j] / amax) : 0;
      const lo = amax ? nf4Argmin(x[b * 64 + j + 1] / amax) : 0;
      bytes[b * 36 + 4 + j / 2] = (hi << 4) | lo;
      values[b * 64 + j] = Math.fround(Math.fround(NF4_LEVELS[hi]) * a32);
      values[b * 64 + j + 1] = Math.fround(Math.fround(NF4_LEVELS[lo]) * a32);
    }
  }
  return { bytes, values };
}
