import { describe, expect, test } from 'vitest';
import { testGpu } from './gpu';
import { bucketBytes } from '../src/gpu/buffer_pool';
import { grid } from '../src/gpu/runtime';

describe('gpu runtime', () => {
  test('gets an adapter and says which', async () => {
    const gpu = await testGpu();
    expect(gpu.describe().length).toBeGreaterThan(3);
    expect(gpu.device.limits.maxStorageBufferBindingSize).toBeGreaterThan(128 * 2 ** 20);
  });

  test('buffer pool reuses buffers and counts bytes', async () => {
    const gpu = await testGpu();
    const before = { ...gpu.pool.stats };
    const t = gpu.tensor([1000], 't');
    expect(gpu.pool.stats.bytesInUse - before.bytesInUse).toBe(bucketBytes(4000));
    gpu.release(t);
    const allocated = gpu.pool.stats.bytesAllocated;
    const t2 = gpu.tensor([1000], 't2');
    expect(t2.buffer).toBe(t.buffer);
    expect(gpu.pool.stats.bytesAllocated).toBe(allocated);
    gpu.release(t2);
    expect(gpu.pool.stats.bytesInUse).toBe(before.bytesInUse);
  });

  test('upload, zeros and read round-trip; writes stay in program order', async () => {
    const gpu = await testGpu();
    const t = gpu.upload([1, 2, 3], [3], 'x');
    expect([...(await gpu.read(t))]).toEqual([1, 2, 3]);
    const z = gpu.zeros([5], 'z');
    expect([...(await gpu.read(z))]).toEqual([0, 0, 0, 0, 0]);
    gpu.copy(t, z, 3, 0, 2);
    gpu.write(t, [7, 8, 9]); // must land after the copy above
    expect([...(await gpu.read(z))]).toEqual([0, 0, 1, 2, 3]);
    gpu.release(t, z);
  });

  test('grid splits large workgroup counts', () => {
    expect(grid(10)).toEqual([10, 1]);
    const [x, y] = grid(200000);
    expect(x).toBeLessThanOrEqual(65535);
    expect(x * y).toBeGreaterThanOrEqual(200000);
  });

  test('oversized buffers are refused with a message naming the tensor', async () => {
    const gpu = await testGpu();
    expect(() => gpu.tensor([gpu.device.limits.maxBufferSize], 'huge logits')).toThrow(/huge logits.*maxBufferSize/);
  });
});

describe('device errors', () => {
  test('a validation error surfaces at the next read, naming the labelled kernel', async () => {
    const gpu = await testGpu();
    const spec = {
      name: 'deliberately_broken',
      code: '@group(0) @binding(1) var<storage, read_write> x: array<f32>;\n@compute @workgroup_size(1) fn main() { x[0] = 1.0; }',
      buffers: ['read_write' as const, 'read_write' as const],
      hasParams: false,
    };
    const a = gpu.tensor([4], 'a');
    // the shader declares one binding, the layout two: pipeline creation fails validation
    gpu.dispatch(spec, { buffers: [a, a], workgroups: [1] });
    await expect(gpu.read(a)).rejects.toThrow(/deliberately_broken/);
    gpu.release(a);
  });

  test('an out-of-memory message says what the run holds and what to reduce', async () => {
    const gpu = await testGpu();
    const msg = gpu.outOfMemoryMessage('Failed to allocate 2 GiB');
    expect(msg).toMatch(/ran out of memory \(Failed to allocate 2 GiB\)\. This run holds .* in \d+ buffers/);
    expect(msg).toMatch(/prompts_per_step, num_generations, max_completion_length/);
  });
});

describe('kernel timer', () => {
  test('times every dispatch by kernel name with timestamp queries', async () => {
    const gpu = await testGpu();
    const { residualAdd } = await import('../src/gpu/kernels/residual_add');
    const a = gpu.upload([1, 2, 3], [3], 'a');
    const out = gpu.tensor([3], 'out');
    if (!gpu.startKernelTimer()) return; // adapter without timestamp-query: nothing to time
    for (let i = 0; i < 3; i++) residualAdd(gpu, out, a, a);
    const t = await gpu.stopKernelTimer();
    expect(t).toHaveLength(1);
    expect(t[0]).toMatchObject({ kernel: 'residual_add', count: 3 });
    expect(t[0].ms).toBeGreaterThanOrEqual(0);
    expect([...(await gpu.read(out))]).toEqual([2, 4, 6]); // the timed passes still compute
    gpu.release(a, out);
  });
});
