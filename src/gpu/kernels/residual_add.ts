// Host wrappers for residual_add.wgsl and residual_add_inplace.wgsl.
import addCode from '../../../shaders/residual_add.wgsl?raw';
import addInplaceCode from '../../../shaders/residual_add_inplace.wgsl?raw';
import { grid, type GpuRuntime } from '../runtime';
import type { KernelSpec } from '../pipeline_cache';
import { expectSize, type Tensor } from '../tensor';

const ADD: KernelSpec = { name: 'residual_add', code: addCode, buffers: ['read', 'read', 'read_write'], hasParams: true };
const ADD_INPLACE: KernelSpec = {
  name: 'residual_add_inplace',
  code: addInplaceCode,
  buffers: ['read', 'read_write'],
  hasParams: true,
};

/** out = a + b, elementwise over the first n elements (default: all of out). */
export function residualAdd(gpu: GpuRuntime, out: Tensor, a: Tensor, b: Tensor, n = out.size): void {
  expectSize(a, n);
  expectSize(b, n);
  expectSize(out, n);
  gpu.dispatch(ADD, { buffers: [a, b, out], params: [n], workgroups: grid(Math.ceil(n / 256)) });
}

/** acc += b, elementwise over the first n elements (default: all of acc). */
export function residualAddInplace(gpu: GpuRuntime, acc: Tensor, b: Tensor, n = acc.size): void {
  expectSize(b, n);
  expectSize(acc, n);
  gpu.dispatch(ADD_INPLACE, { buffers: [b, acc], params: [n], workgroups: grid(Math.ceil(n / 256)) });
}
