// Host wrapper for grad_norm_partial.wgsl + grad_norm_final.wgsl: the global L2 norm over many gradient
// tensors (e.g. every LoRA A/B matrix) and the clipping factor, without a readback.
import partialCode from '../../../shaders/grad_norm_partial.wgsl?raw';
import finalCode from '../../../shaders/grad_norm_final.wgsl?raw';
import { grid, type GpuRuntime } from '../runtime';
import { defineKernel } from '../kernel';
import { expectSize, type Tensor } from '../tensor';
import { clipsAt } from '../../ops/grad_norm';

export { clipsAt } from '../../ops/grad_norm';

export const GRAD_NORM_PARTIAL = defineKernel({
  name: 'grad_norm_partial',
  source: partialCode,
  params: { n: 'u32', offset: 'u32' },
  buffers: { grad: 'read', partials: 'read_write' },
});
export const GRAD_NORM_FINAL = defineKernel({
  name: 'grad_norm_final',
  source: finalCode,
  params: { count: 'u32', clip: 'u32', maxNorm: 'f32' },
  buffers: { partials: 'read', out: 'read_write' },
});

const PARTIAL_WG = 256;
const PARTIAL_ITEMS = 16;
/** Elements one grad_norm_partial workgroup sums: WG invocations x ITEMS each. */
export const GRAD_NORM_CHUNK = PARTIAL_WG * PARTIAL_ITEMS;

/**
 * Global gradient norm with clipping factor. run() writes out = [norm, clipScale] (f32), clipScale =
 * min(1, maxNorm / (norm + 1e-6)), 1 when not clipping. A NaN/Inf gradient gives norm = NaN (the trainer
 * skips such steps); finite gradients whose sum of squares overflows f32 give norm = +Inf, like a float32
 * accumulation. Deterministic: per-tensor partial sums of squares, then one final reduction.
 */
export class GradNorm {
  private partials: Tensor | null;
  private readonly offsets: number[] = [];
  private readonly count: number;

  /** Allocates the partials scratch once (reused by every run). The grads are kept by reference. */
  constructor(
    private readonly gpu: GpuRuntime,
    private readonly grads: readonly Tensor[],
  ) {
    let count = 0;
    for (const g of grads) {
      if (g.dtype !== 'f32') throw new Error(`grad_norm: ${g.label} is ${g.dtype}, expected f32`);
      this.offsets.push(count);
      count += Math.ceil(g.size / GRAD_NORM_CHUNK);
    }
    this.count = count;
    this.partials = gpu.tensor([Math.max(count, 1)], 'grad_norm partials', 'u32');
  }

  /** Records the dispatches (one per non-empty gradient, then one); no readback. out: (>= 2) f32. */
  run(out: Tensor, maxNorm: number): void {
    if (!this.partials) throw new Error('grad_norm: run() after release()');
    expectSize(out, 2, `grad_norm out (${out.label})`);
    this.grads.forEach((g, i) => {
      const workgroups = Math.ceil(g.size / GRAD_NORM_CHUNK);
      if (workgroups === 0) return;
      this.gpu.run(
        GRAD_NORM_PARTIAL,
        { grad: g, partials: this.partials! },
        { n: g.size, offset: this.offsets[i] },
        grid(workgroups),
        { WG: PARTIAL_WG, ITEMS: PARTIAL_ITEMS },
      );
    });
    const clip = clipsAt(maxNorm);
    this.gpu.run(
      GRAD_NORM_FINAL,
      { partials: this.partials, out },
      { count: this.count, clip: clip ? 1 : 0, maxNorm: clip ? maxNorm : 0 },
      [1],
    );
  }

  release(): void {
    this.gpu.release(this.partials);
    this.partials = null;
  }
}
