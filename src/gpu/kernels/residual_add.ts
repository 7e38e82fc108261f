// Host wrappers for residual_add.wgsl and residual_add_inplace.wgsl.
// UNFUSED REFERENCES: src/model calls neither. The forward adds residuals inside add_rmsnorm_forward, and
// the backward's gradient sums happen in the kernels that produce them (rmsnorm_backward accumulates into
// the residual stream's gradient). residual_add stays as what add_rmsnorm_forward is checked against bit
// for bit (src/selftest); both are checked against their CPU references and time the runtime's timer test.
import addCode from '../../../shaders/residual_add.wgsl?raw';
import addInplaceCode from '../../../shaders/residual_add_inplace.wgsl?raw';
import { grid, type GpuRuntime } from '../runtime';
import { defineKernel } from '../kernel';
import { expectSize, type Tensor } from '../tensor';
import { elementwiseWorkgroupSize } from './elementwise';

export { elementwiseWorkgroupSize } from './elementwise';

export const RESIDUAL_ADD = defineKernel({
  name: 'residual_add',
  source: addCode,
  params: { n: 'u32' },
  buffers: { a: 'read', b: 'read', out: 'read_write' },
  unfusedReferenceOf: ['add_rmsnorm_forward'],
});
export const RESIDUAL_ADD_INPLACE = defineKernel({
  name: 'residual_add_inplace',
  source: addInplaceCode,
  params: { n: 'u32' },
  buffers: { b: 'read', acc: 'read_write' },
  unfusedReferenceOf: ['rmsnorm_backward'],
});

/** out = a + b, elementwise over the first n elements (default: all of out). */
export function residualAdd(gpu: GpuRuntime, out: Tensor, a: Tensor, b: Tensor, n = out.size): void {
  expectSize(a, n);
  expectSize(b, n);
  expectSize(out, n);
  const wg = elementwiseWorkgroupSize(gpu);
  gpu.run(RESIDUAL_ADD, { a, b, out }, { n }, grid(Math.ceil(n / wg)), { WG: wg });
}

/** acc += b, elementwise over the first n elements (default: all of acc). */
export function residualAddInplace(gpu: GpuRuntime, acc: Tensor, b: Tensor, n = acc.size): void {
  expectSize(b, n);
  expectSize(acc, n);
  const wg = elementwiseWorkgroupSize(gpu);
  gpu.run(RESIDUAL_ADD_INPLACE, { b, acc }, { n }, grid(Math.ceil(n / wg)), { WG: wg });
}
