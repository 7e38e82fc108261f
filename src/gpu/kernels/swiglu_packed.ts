// Host wrapper for swiglu_packed_forward.wgsl: SwiGLU over the fused gate/up projection's packed output.
import code from '../../../shaders/swiglu_packed_forward.wgsl?raw';
import { grid, type GpuRuntime } from '../runtime';
import { defineKernel } from '../kernel';
import { expectShape, shapeString, type Tensor } from '../tensor';
import { elementwiseWorkgroupSize } from './elementwise';

export const SWIGLU_PACKED_FORWARD = defineKernel({
  name: 'swiglu_packed_forward',
  source: code,
  params: { n: 'u32', H: 'u32' },
  buffers: { gu: 'read', out: 'read_write' },
});

/** out (N, H) = silu(gu[:, :H]) * gu[:, H:], gu (N, 2H) rows [gate | up]. Overwrites out. Inference only. */
export function swigluPackedForward(gpu: GpuRuntime, out: Tensor, gu: Tensor): void {
  if (out.shape.length !== 2) throw new Error(`swiglu_packed_forward: out ${out.label} must be (N, H), got ${shapeString(out)}`);
  const [N, H] = out.shape;
  expectShape(gu, [N, 2 * H], `swiglu_packed_forward: gu (N, 2H) ${gu.label}`);
  if (gu.buffer === out.buffer) throw new Error(`swiglu_packed_forward: out ${out.label} is also gu; write into a separate tensor`);
  const n = N * H;
  const wg = elementwiseWorkgroupSize(gpu);
  gpu.run(SWIGLU_PACKED_FORWARD, { gu, out }, { n, H }, grid(Math.ceil(n / wg)), { WG: wg });
}
