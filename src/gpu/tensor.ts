// A tensor handle: a GPU buffer with a shape and a label. Row-major, contiguous, 4-byte elements.

export type DType = 'f32' | 'u32' | 'i32';

export interface Tensor {
  readonly buffer: GPUBuffer;
  readonly shape: readonly number[];
  readonly dtype: DType;
  readonly label: string;
  /** number of elements (product of shape) */
  readonly size: number;
}

export function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) throw new Error(`invalid shape [${shape.join(', ')}]`);
    n *= d;
  }
  return n;
}

export function shapeString(t: Pick<Tensor, 'shape'>): string {
  return `[${t.shape.join(', ')}]`;
}

/** Throws a message naming the tensor when its shape differs from the expected one. */
export function expectShape(t: Tensor, expected: readonly number[], what = t.label): void {
  if (t.shape.length !== expected.length || t.shape.some((d, i) => d !== expected[i])) {
    throw new Error(`${what}: expected shape [${expected.join(', ')}], got ${shapeString(t)}`);
  }
}

/** Throws unless the tensor holds at least `n` elements. */
export function expectSize(t: Tensor, n: number, what = t.label): void {
  if (t.size < n) throw new Error(`${what}: needs at least ${n} elements, has ${t.size} ${shapeString(t)}`);
}
