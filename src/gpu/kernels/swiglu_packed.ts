// Host wrapper for swiglu_packed_forward.wgsl: SwiGLU over the fused gate/up projection's packed output.
import code from '../../../shaders/swiglu_packed_forward.wgsl?raw';
import { grid, type GpuRuntime } from '../runtime';
import type { KernelSpec } from '../pipeline_cache';
import { expectShape, shapeString, type Tensor } from '../tensor';
import { elementwiseWorkgroupSize } from './residual_add';

const FORWARD: KernelSpec = { name: 'swiglu_packed_forward', code, buffers: ['read', 'read_write'], hasParams: true };

/** out (N, H) = silu(gu[:, :H]) * gu[:, H:], gu (N, 2H) rows [gate | up]. Overwrites out. Inference only. */
export function swigluPackedForward(gpu: GpuRuntime, out: Tensor, gu: Tensor): void {
  if (out.shape.length !== 2) throw new Error(`swiglu_packed_forward: out ${out.label} must be (N, H), got ${shapeString(out)}`);
  const [N, H] = out.shape;
  expectShape(gu, [N, 2 * H], `swiglu_packed_forward: gu (N, 2H) ${gu.label}`);
  if (gu.buffer === out.buffer) throw new Error(`swiglu_packed_forward: out ${out.label} is also gu; write into a separate tensor`);
  const n = N * H;
  const wg = elementwiseWorkgroupSize(gpu);
  gpu.dispatch(FORWARD, { buffers: [gu, out], params: [n, H], workgroups: grid(Math.ceil(n / wg)), overrides: { WG: wg } });
}
