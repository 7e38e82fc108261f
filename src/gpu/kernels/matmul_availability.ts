// Which matmul variants this device can run, and why not where it cannot (a feature the adapter lacks, a
// subgroup size out of range, workgroup limits): the GPU panel lists them, so a variant that was not checked
// here reads "untested here", never as passed. Every variant is still compiled (each tile, each direction, with
// shader-f16 and subgroups) by Dawn's WGSL compiler on its Null backend in CI (test/compile_null_backend.test.ts),
// which validates and builds pipelines but runs nothing: a variant this device cannot run says so, never more.
import type { GpuRuntime } from '../runtime';
import { ALL_MATMUL_PATHS, matmulPathUnavailable, SOFTWARE_MATMUL_PATHS } from './matmul';
import { ALL_PACKED16_PATHS, packed16PathUnavailable } from './matmul_packed16_variants';
import { ALL_QUANT_PATHS, quantPathUnavailable, SOFTWARE_QUANT_PATHS } from './matmul_quant_variants';

export interface VariantAvailabilityRow {
  op: 'matmul' | 'matmul_packed16' | 'matmul_quant';
  variant: string;
  /** 'software' (what software adapters run) or 'gpu' (chosen on hardware adapters) */
  kind: 'software' | 'gpu';
  /** null: it runs here (and the self-test checks it); else why not */
  unavailable: string | null;
  /** where it cannot run here: how far it was checked elsewhere (COMPILED_NOT_RUN); else null */
  note: string | null;
}

/** What a variant this device cannot run has been through: compiled, never run (by test/compile_null_backend.test.ts). */
export const COMPILED_NOT_RUN = "compiled by Dawn's WGSL compiler on its Null backend in CI, never run on this device";

export function variantAvailability(gpu: GpuRuntime): VariantAvailabilityRow[] {
  const note = (unavailable: string | null) => (unavailable === null ? null : COMPILED_NOT_RUN);
  const rows: VariantAvailabilityRow[] = ALL_MATMUL_PATHS.map((variant) => {
    const unavailable = matmulPathUnavailable(gpu, variant);
    return { op: 'matmul', variant, kind: SOFTWARE_MATMUL_PATHS.includes(variant) ? 'software' : 'gpu', unavailable, note: note(unavailable) };
  });
  for (const variant of ALL_PACKED16_PATHS) {
    // a variant counts as available when it can run either format (the shader-f16 tiles: IEEE half only)
    const whys = (['bf16', 'f16'] as const).map((f) => packed16PathUnavailable(gpu, variant, f));
    const unavailable = whys.includes(null) ? null : whys[1];
    rows.push({ op: 'matmul_packed16', variant, kind: variant === 'block8' ? 'software' : 'gpu', unavailable, note: note(unavailable) });
  }
  for (const variant of ALL_QUANT_PATHS) {
    const unavailable = quantPathUnavailable(gpu, variant);
    rows.push({ op: 'matmul_quant', variant, kind: SOFTWARE_QUANT_PATHS.includes(variant) ? 'software' : 'gpu', unavailable, note: note(unavailable) });
  }
  return rows;
}
