// Argument checks shared by the attention wrappers (attention.ts: training; attention_decode.ts: decoding).
import type { Tensor } from '../tensor';

/** The largest workgroup the attention kernels use (heads of up to 4 * MAX_INVOCATIONS channels). */
export const MAX_INVOCATIONS = 256;

export function checkDims(kernel: string, dims: Record<string, number>, vec4Heads = true): void {
  for (const [name, value] of Object.entries(dims)) {
    if (!Number.isInteger(value) || value < 1) throw new Error(`${kernel}: ${name} = ${value} must be a positive integer`);
  }
  // the kernels read rows of HS floats as vec4s
  if (vec4Heads && (dims.HS % 4 !== 0 || dims.HS > 4 * MAX_INVOCATIONS)) {
    throw new Error(`${kernel}: head size HS = ${dims.HS} must be a multiple of 4 and at most ${4 * MAX_INVOCATIONS}`);
  }
  if (dims.NH !== undefined && dims.NH % dims.NKV !== 0) {
    throw new Error(`${kernel}: NH = ${dims.NH} must be a multiple of NKV = ${dims.NKV} (grouped-query attention)`);
  }
}

/** WebGPU refuses a dispatch that binds one buffer twice when one of the bindings is writable, so every
 * output must have a buffer of its own (inputs may share one). */
export function expectDistinct(kernel: string, outputs: Record<string, Tensor>, inputs: Record<string, Tensor>): void {
  const all = [...Object.entries(outputs), ...Object.entries(inputs)];
  Object.entries(outputs).forEach(([name, o], i) => {
    all.forEach(([other, t], j) => {
      if (i !== j && t.buffer === o.buffer) {
        throw new Error(`${kernel}: ${name} and ${other} share the buffer of ${o.label}; an output needs a buffer of its own`);
      }
    });
  });
}

export function expectU32(kernel: string, name: string, t: Tensor): void {
  if (t.dtype !== 'u32') throw new Error(`${kernel}: ${name} (${t.label}) must be a u32 tensor, got ${t.dtype}`);
}

export function scoreScale(d: { HS: number; scale?: number }): number {
  const s = d.scale ?? 1 / Math.sqrt(d.HS);
  if (!(s > 0) || !Number.isFinite(s)) throw new Error(`attention: scale = ${s} must be a positive number`);
  return s;
}

/** WINDOW override of the attention kernels: only when set, so full attention keeps its pipelines. */
export function windowOverride(d: { window?: number }): Record<string, number> {
  const w = d.window ?? 0;
  if (!Number.isInteger(w) || w < 0) throw new Error(`attention: window = ${w} must be a non-negative integer (0: none)`);
  return w > 0 ? { WINDOW: w } : {};
}
