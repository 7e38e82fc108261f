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
