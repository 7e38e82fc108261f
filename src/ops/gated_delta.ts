// Shapes of the gated delta rule (Qwen3.5's Gated DeltaNet core), shared by the GPU kernels
// (src/gpu/kernels/gated_delta.ts) and the CPU reference (src/reference/gated_delta.ts).

/** B rows of T tokens; NK query/key heads of DK, NV value heads of DV (NK divides NV: value head h reads
 * query/key head floor(h / (NV / NK)), transformers' repeat_interleave); q is multiplied by scale (DK^-1/2). */
export interface GatedDeltaDims {
  B: number;
  T: number;
  NK: number;
  NV: number;
  DK: number;
  DV: number;
  scale: number;
}

export function checkGatedDeltaDims(d: GatedDeltaDims): void {
  for (const k of ['B', 'T', 'NK', 'NV', 'DK', 'DV'] as const) {
    if (!Number.isInteger(d[k]) || d[k] <= 0) throw new Error(`gated delta rule: ${k} = ${d[k]} must be a positive integer`);
  }
  if (d.NV % d.NK !== 0) throw new Error(`gated delta rule: NK = ${d.NK} must divide NV = ${d.NV}`);
}

/** The query/key head that value head h reads. */
export function keyHeadOf(d: GatedDeltaDims, h: number): number {
  return Math.floor(h / (d.NV / d.NK));
}
