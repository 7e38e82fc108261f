// Which matmul variants this device can run, and why not where it cannot (a feature the adapter lacks, a
// subgroup size out of range, workgroup limits): the GPU panel lists them, so a variant that was not checked
// here reads "untested here", never as passed.
import type { GpuRuntime } from '../runtime';
import { ALL_MATMUL_PATHS, matmulPathUnavailable, SOFTWARE_MATMUL_PATHS } from './matmul';
import { ALL_PACKED16_PATHS, packed16PathUnavailable } from './matmul_packed16_variants';

export interface VariantAvailabilityRow {
  op: 'matmul' | 'matmul_packed16';
  variant: string;
  /** 'software' (what software adapters run) or 'gpu' (chosen on hardware adapters) */
  kind: 'software' | 'gpu';
  /** null: it runs here (and the self-test checks it); else why not */
  unavailable: string | null;
}

export function variantAvailability(gpu: GpuRuntime): VariantAvailabilityRow[] {
  const rows: VariantAvailabilityRow[] = ALL_MATMUL_PATHS.map((variant) => ({
    op: 'matmul',
    variant,
    kind: SOFTWARE_MATMUL_PATHS.includes(variant) ? 'software' : 'gpu',
    unavailable: matmulPathUnavailable(gpu, variant),
  }));
  for (const variant of ALL_PACKED16_PATHS) {
    // a variant counts as available when it can run either format (the shader-f16 tiles: IEEE half only)
    const whys = (['bf16', 'f16'] as const).map((f) => packed16PathUnavailable(gpu, variant, f));
    const unavailable = whys.includes(null) ? null : whys[1];
    rows.push({ op: 'matmul_packed16', variant, kind: variant === 'block8' ? 'software' : 'gpu', unavailable });
  }
  return rows;
}
