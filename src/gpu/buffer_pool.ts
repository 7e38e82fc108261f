// Buffer pool: reuses GPU buffers by (usage, byte size) so that steady-state training allocates nothing.
// Counters: bytesAllocated (live GPUBuffers owned by the pool) and bytesInUse (handed out, not released).

export interface PoolStats {
  bytesAllocated: number;
  bytesInUse: number;
  peakBytesAllocated: number;
  buffersAllocated: number;
}

/** Sizes are rounded up so that near-equal requests share buffers: 256 B granularity, then 1/8-octave steps. */
export function bucketBytes(bytes: number): number {
  const b = Math.max(256, Math.ceil(bytes / 256) * 256);
  if (b <= 65536) return b;
  const step = 2 ** (Math.floor(Math.log2(b)) - 3);
  return Math.ceil(b / step) * step;
}

export class BufferPool {
  private free = new Map<string, GPUBuffer[]>();
  private sizes = new WeakMap<GPUBuffer, { key: string; bytes: number }>();
  readonly stats: PoolStats = { bytesAllocated: 0, bytesInUse: 0, peakBytesAllocated: 0, buffersAllocated: 0 };
  /** the largest single buffer created so far (bytes, after bucketing) and its label (for the memory plan) */
  readonly largest = { bytes: 0, label: '' };

  constructor(private readonly device: GPUDevice, private readonly maxBufferSize: number) {}

  /** A buffer of at least `bytes`: a released one of the same bucket, else a new one. `exact`: sized to the
   * request (256 B granularity) instead of its 1/8-octave bucket, for buffers held for the model's lifetime
   * (frozen weights), which no other request would reuse and whose rounding is pure waste (Qwen3.5-2B's bf16
   * embedding table: 970 MiB in a 1024 MiB bucket). */
  acquire(bytes: number, usage: GPUBufferUsageFlags, label: string, exact = false): GPUBuffer {
    const size = exact ? Math.max(256, Math.ceil(bytes / 256) * 256) : bucketBytes(bytes);
    if (size > this.maxBufferSize) {
      throw new Error(
        `${label}: needs a ${formatBytes(size)} buffer, more than this device allows (maxBufferSize ${formatBytes(this.maxBufferSize)})`,
      );
    }
    const key = `${usage}:${size}`;
    const list = this.free.get(key);
    let buffer = list?.pop();
    if (buffer) {
      buffer.label = label;
    } else {
      buffer = this.device.createBuffer({ size, usage, label });
      this.sizes.set(buffer, { key, bytes: size });
      this.stats.bytesAllocated += size;
      this.stats.buffersAllocated++;
      this.stats.peakBytesAllocated = Math.max(this.stats.peakBytesAllocated, this.stats.bytesAllocated);
      if (size > this.largest.bytes) {
        this.largest.bytes = size;
        this.largest.label = label;
      }
    }
    this.stats.bytesInUse += size;
    return buffer;
  }

  release(buffer: GPUBuffer): void {
    const info = this.sizes.get(buffer);
    if (!info) throw new Error(`buffer ${buffer.label} does not belong to this pool`);
    this.stats.bytesInUse -= info.bytes;
    const list = this.free.get(info.key);
    if (list) list.push(buffer);
    else this.free.set(info.key, [buffer]);
  }

  /** Destroys every free buffer (buffers still in use stay valid). */
  trim(): void {
    for (const list of this.free.values()) {
      for (const b of list) {
        this.stats.bytesAllocated -= this.sizes.get(b)!.bytes;
        this.stats.buffersAllocated--;
        b.destroy();
      }
    }
    this.free.clear();
  }
}

export function formatBytes(n: number): string {
  if (n >= 2 ** 30) return `${(n / 2 ** 30).toFixed(2)} GiB`;
  if (n >= 2 ** 20) return `${(n / 2 ** 20).toFixed(1)} MiB`;
  if (n >= 2 ** 10) return `${(n / 2 ** 10).toFixed(1)} KiB`;
  return `${n} B`;
}
