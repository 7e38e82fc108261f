// Host wrappers for the token embedding: embedding_forward.wgsl (lookup) and the two-stage deterministic
// scatter-add of its backward (embedding_backward_sort.wgsl, embedding_backward_accumulate.wgsl).
import forwardCode from '../../../shaders/embedding_forward.wgsl?raw';
import sortCode from '../../../shaders/embedding_backward_sort.wgsl?raw';
import accumulateCode from '../../../shaders/embedding_backward_accumulate.wgsl?raw';
import { grid, type GpuRuntime } from '../runtime';
import { defineKernel } from '../kernel';
import { expectShape, shapeString, type Tensor } from '../tensor';

export const EMBEDDING_FORWARD = defineKernel({
  name: 'embedding_forward',
  source: forwardCode,
  params: { n_tokens: 'u32', C: 'u32', V: 'u32' },
  buffers: { ids: 'read', table: 'read', out: 'read_write' },
});
export const EMBEDDING_BACKWARD_SORT = defineKernel({
  name: 'embedding_backward_sort',
  source: sortCode,
  params: { n_tokens: 'u32' },
  buffers: { ids: 'read', order: 'read_write' },
});
export const EMBEDDING_BACKWARD_ACCUMULATE = defineKernel({
  name: 'embedding_backward_accumulate',
  source: accumulateCode,
  params: { n_tokens: 'u32', C: 'u32', V: 'u32' },
  buffers: { dout: 'read', ids: 'read', order: 'read', dtable: 'read_write' },
});

/** (V, C) of a 2-D table, with a message naming the tensor otherwise. */
function tableDims(table: Tensor): [number, number] {
  if (table.shape.length !== 2) throw new Error(`${table.label}: expected a (V, C) table, got ${shapeString(table)}`);
  return [table.shape[0], table.shape[1]];
}

function expectU32(t: Tensor): void {
  if (t.dtype !== 'u32') throw new Error(`${t.label}: expected u32 token ids, got ${t.dtype}`);
}

/** out = table[ids] * scale: out (N, C) (or ids.shape + [C]), ids (N) u32, table (V, C). Overwrites out.
 * An id >= V gives a row of zeros. scale: Gemma's sqrt(C) (default 1). */
export function embeddingForward(gpu: GpuRuntime, out: Tensor, ids: Tensor, table: Tensor, scale = 1): void {
  const [V, C] = tableDims(table);
  expectU32(ids);
  const N = ids.size;
  expectShape(out, [...ids.shape, C]);
  gpu.run(EMBEDDING_FORWARD, { ids, table, out }, { n_tokens: N, C, V }, grid(Math.ceil((N * C) / 256)), scaleOverride(scale));
}

/** SCALE override only when it is not 1, so the plain lookup keeps its pipeline. */
function scaleOverride(scale: number): Record<string, number> {
  if (!Number.isFinite(scale)) throw new Error(`embedding: scale = ${scale} must be finite`);
  return scale === 1 ? {} : { SCALE: scale };
}

/** dtable += scatter of dout rows (times scale, the forward's) by ids (accumulates): dtable (V, C), dout (N, C) (or ids.shape + [C]),
 * ids (N) u32. Deterministic without float atomics: a stable sort of the positions by id (N^2 integer
 * compares), then one owner per distinct id sums its dout rows in position order. Work O(N^2 + N*C),
 * independent of V. Ids >= V contribute nothing. */
export function embeddingBackward(gpu: GpuRuntime, dtable: Tensor, dout: Tensor, ids: Tensor, scale = 1): void {
  const [V, C] = tableDims(dtable);
  expectU32(ids);
  const N = ids.size;
  expectShape(dout, [...ids.shape, C]);
  if (N === 0) return;
  const order = gpu.tensor([N], 'embedding_backward order', 'u32');
  gpu.run(EMBEDDING_BACKWARD_SORT, { ids, order }, { n_tokens: N }, grid(Math.ceil(N / 256)));
  gpu.run(EMBEDDING_BACKWARD_ACCUMULATE, { dout, ids, order, dtable }, { n_tokens: N, C, V }, grid(N), scaleOverride(scale));
  // Safe before the recorded dispatches run: a later user of this buffer is ordered after them (dispatches
  // are recorded in order, and write() flushes first).
  gpu.release(order);
}
