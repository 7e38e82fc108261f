// The GPU runtime: one device, its buffer pool and pipeline cache, and a command encoder that collects
// many dispatches into one submit. Works the same in a page, a Web Worker and Node (see device.ts).
//
// About 400 lines: the runtime is the one object every kernel wrapper talks to (device, pool, pipelines,
// recording, readback, error scopes, timers); split further it would scatter one object's state.
//
// Ordering rule: dispatches are recorded, not run, until flush(). Uploads (write) and readbacks (read)
// flush first, so the queue sees every operation in program order.

import { BufferPool, formatBytes, type PoolStats } from './buffer_pool';
import { PipelineCache, type KernelSpec } from './pipeline_cache';
import { numel, type DType, type Tensor } from './tensor';
import { encodeParams, orderBuffers, type BufferArgs, type BufferLayout, type KernelDescriptor, type ParamArgs, type ParamLayout } from './kernel';

/** A uniform parameter: plain numbers are u32; wrap floats with f32() and signed ints with i32(). */
export type Param = number | { f32: number } | { i32: number };
export const f32 = (x: number): Param => ({ f32: x });
export const i32 = (x: number): Param => ({ i32: x });

export interface AdapterSummary {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  features: string[];
  limits: Record<string, number>;
  /** true for software adapters (SwiftShader, lavapipe...) */
  isSoftware: boolean;
}

export interface DispatchOptions {
  /** storage bindings 1..n in the kernel's binding order */
  buffers: readonly Tensor[];
  /** uniform params at binding 0, 4 bytes each, in the order of the WGSL struct's fields */
  params?: readonly Param[];
  /** workgroup counts; use grid() for a 1-D count that may exceed 65535 */
  workgroups: readonly [number, number?, number?];
  overrides?: Record<string, number>;
}

/** One kernel's dispatches and storage bytes bound (GpuRuntime.startCostLog). */
export interface KernelCost {
  kernel: string;
  dispatches: number;
  readBytes: number;
  readWriteBytes: number;
  /** the bindings of its first dispatch: tensor label, bytes bound, access */
  buffers: { label: string; bytes: number; access: 'read' | 'read_write' }[];
}

const PARAM_SLOT = 256; // minUniformBufferOffsetAlignment
const PARAM_SLOTS = 1024;

export class GpuRuntime {
  readonly pool: BufferPool;
  readonly pipelines: PipelineCache;
  /** validation / out-of-memory errors reported by the device, each naming the labelled object */
  readonly errors: string[] = [];
  dispatchCount = 0;
  submitCount = 0;
  readbackCount = 0;
  /** Storage bytes bound by every dispatch so far (binding sizes), by the binding's access: what a kernel may
   * read ('read') and may read or write ('read_write'). Upper bounds of the bytes it touches (a gather binds a
   * whole table and reads rows of it); cheap, always counted. */
  boundReadBytes = 0;
  boundReadWriteBytes = 0;
  /** per-kernel dispatches and bound bytes while a cost log is open (startCostLog) */
  private costLog: Map<string, KernelCost> | null = null;
  /** an object that must live as long as the device (Node: the Dawn GPU instance) */
  keepAlive: unknown = null;
  /** Kernel variant chosen per op shape class (e.g. "matmul NT M8 K576 N1536" -> "smallm_subgroup"), filled
   * from the autotune cache or by measurement (src/gpu/autotune.ts); empty means each op's default table. */
  readonly variantChoices = new Map<string, string>();
  /** Shape classes met on a hardware adapter without a choice yet, each with one problem of that class
   * (what autotune.ts's tunePending() times). */
  readonly variantPending = new Map<string, unknown>();

  private encoder: GPUCommandEncoder | null = null;
  private pass: GPUComputePassEncoder | null = null;
  private paramsBuffer: GPUBuffer;
  private paramsStaging = new ArrayBuffer(PARAM_SLOT * PARAM_SLOTS);
  private paramsUsed = 0;
  private lostReason: string | null = null;
  private timer: KernelTimer | null = null;

  constructor(
    readonly device: GPUDevice,
    readonly adapter: AdapterSummary,
  ) {
    this.pool = new BufferPool(device, device.limits.maxBufferSize);
    this.pipelines = new PipelineCache(device);
    this.paramsBuffer = device.createBuffer({
      size: PARAM_SLOT * PARAM_SLOTS,
      usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
      label: 'kernel params',
    });
    device.addEventListener('uncapturederror', (ev) => {
      const e = (ev as GPUUncapturedErrorEvent).error;
      this.errors.push(isOutOfMemory(e) ? this.outOfMemoryMessage(e.message) : e.message);
    });
    void device.lost.then((info) => {
      this.lostReason = `GPU device lost (${info.reason}): ${info.message}`;
    });
  }

  get stats(): PoolStats {
    return this.pool.stats;
  }

  get lost(): string | null {
    return this.lostReason;
  }

  // ---- tensors ----

  /** A new (uninitialised) tensor from the pool. */
  tensor(shape: readonly number[], label: string, dtype: DType = 'f32'): Tensor {
    const size = numel(shape);
    const buffer = this.pool.acquire(
      Math.max(4, size * 4),
      GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
      label,
    );
    return { buffer, shape: [...shape], dtype, label, size };
  }

  /** A new tensor for a frozen weight, held for the model's lifetime: its buffer is sized exactly (BufferPool.acquire's
   * `exact`), not rounded up to a reusable bucket. */
  weightTensor(shape: readonly number[], label: string, dtype: DType = 'f32'): Tensor {
    const size = numel(shape);
    const buffer = this.pool.acquire(Math.max(4, size * 4), GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST, label, true);
    return { buffer, shape: [...shape], dtype, label, size };
  }

  /** A new tensor holding `data`. */
  upload(data: ArrayLike<number>, shape: readonly number[], label: string, dtype: DType = 'f32'): Tensor {
    const t = this.tensor(shape, label, dtype);
    this.write(t, data);
    return t;
  }

  /** A new tensor filled with zeros. */
  zeros(shape: readonly number[], label: string, dtype: DType = 'f32'): Tensor {
    const t = this.tensor(shape, label, dtype);
    this.fillZero(t);
    return t;
  }

  write(t: Tensor, data: ArrayLike<number>, elementOffset = 0): void {
    if (data.length + elementOffset > t.size) {
      throw new Error(`${t.label}: writing ${data.length} elements at ${elementOffset} overflows its ${t.size}`);
    }
    const typed = toTyped(data, t.dtype);
    this.flush(); // earlier recorded dispatches must run before this write lands
    this.device.queue.writeBuffer(t.buffer, elementOffset * 4, typed.buffer, typed.byteOffset, typed.byteLength);
  }

  fillZero(t: Tensor): void {
    this.endPass();
    this.getEncoder().clearBuffer(t.buffer, 0, Math.ceil((t.size * 4) / 4) * 4 || 4);
  }

  /** Copies `src` into `dst` (elements, both offsets in elements). */
  copy(src: Tensor, dst: Tensor, count = src.size, srcOffset = 0, dstOffset = 0): void {
    if (srcOffset + count > src.size || dstOffset + count > dst.size) {
      throw new Error(`copy ${src.label} -> ${dst.label}: ${count} elements out of range`);
    }
    this.endPass();
    this.getEncoder().copyBufferToBuffer(src.buffer, srcOffset * 4, dst.buffer, dstOffset * 4, count * 4);
  }

  release(...ts: (Tensor | null | undefined)[]): void {
    for (const t of ts) if (t) this.pool.release(t.buffer);
  }

  /** Reads a tensor back (flushes pending work). Throws if the device reported errors. */
  async read(t: Tensor, count = t.size, elementOffset = 0): Promise<Float32Array> {
    const raw = await this.readRaw(t, count, elementOffset);
    return new Float32Array(raw);
  }

  async readU32(t: Tensor, count = t.size, elementOffset = 0): Promise<Uint32Array> {
    return new Uint32Array(await this.readRaw(t, count, elementOffset));
  }

  async readI32(t: Tensor, count = t.size, elementOffset = 0): Promise<Int32Array> {
    return new Int32Array(await this.readRaw(t, count, elementOffset));
  }

  private async readRaw(t: Tensor, count: number, elementOffset: number): Promise<ArrayBuffer> {
    const bytes = Math.max(4, count * 4);
    const staging = this.pool.acquire(bytes, GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST, `readback ${t.label}`);
    this.endPass();
    this.getEncoder().copyBufferToBuffer(t.buffer, elementOffset * 4, staging, 0, count * 4);
    this.flush();
    this.readbackCount++;
    try {
      await staging.mapAsync(GPUMapMode.READ, 0, bytes);
    } catch (e) {
      this.pool.release(staging);
      throw new Error(this.lostReason ?? `reading ${t.label} failed: ${(e as Error).message}`);
    }
    const out = staging.getMappedRange(0, bytes).slice(0, count * 4);
    staging.unmap();
    this.pool.release(staging);
    this.throwIfErrors();
    return out;
  }

  // ---- dispatch ----

  /** Records one dispatch of a typed kernel (kernel.ts): its tensors and its params by name. */
  run<P extends ParamLayout, B extends BufferLayout>(
    kernel: KernelDescriptor<P, B>,
    buffers: NoInfer<BufferArgs<B>>,
    params: NoInfer<ParamArgs<P>>,
    workgroups: readonly [number, number?, number?],
    overrides?: Record<string, number>,
  ): void {
    this.dispatch(kernel.spec, { buffers: orderBuffers(kernel, buffers), params: encodeParams(kernel, params), workgroups, overrides });
  }

  /** The untyped form of run(): a KernelSpec with its buffers and params in binding / struct order. */
  dispatch(spec: KernelSpec, opts: DispatchOptions): void {
    if (this.lostReason) throw new Error(this.lostReason);
    const nBuffers = spec.buffers.length;
    if (opts.buffers.length !== nBuffers) {
      throw new Error(`${spec.name}: expects ${nBuffers} buffers, got ${opts.buffers.length}`);
    }
    const [x, y = 1, z = 1] = opts.workgroups;
    if (x === 0 || y === 0 || z === 0) return;
    const maxWg = this.device.limits.maxComputeWorkgroupsPerDimension;
    if (x > maxWg || y > maxWg || z > maxWg) {
      throw new Error(`${spec.name}: workgroup count (${x}, ${y}, ${z}) exceeds the device's ${maxWg} per dimension`);
    }
    const { pipeline, layout } = this.pipelines.get(spec, opts.overrides);
    const entries: GPUBindGroupEntry[] = [];
    if (spec.hasParams) {
      if (this.paramsUsed === PARAM_SLOTS) this.flush();
      const slot = this.paramsUsed++;
      const view = new DataView(this.paramsStaging, slot * PARAM_SLOT, PARAM_SLOT);
      (opts.params ?? []).forEach((p, i) => {
        if (typeof p === 'number') {
          if (!Number.isInteger(p) || p < 0 || p > 0xffffffff) {
            throw new Error(`${spec.name}: param ${i} = ${p} is not a u32; wrap floats with f32()`);
          }
          view.setUint32(i * 4, p, true);
        } else if ('f32' in p) view.setFloat32(i * 4, p.f32, true);
        else view.setInt32(i * 4, p.i32, true);
      });
      entries.push({ binding: 0, resource: { buffer: this.paramsBuffer, offset: slot * PARAM_SLOT, size: PARAM_SLOT } });
    }
    let readBytes = 0;
    let readWriteBytes = 0;
    opts.buffers.forEach((t, i) => {
      const size = Math.max(4, t.size * 4);
      entries.push({ binding: i + 1, resource: { buffer: t.buffer, offset: 0, size } });
      if (spec.buffers[i] === 'read') readBytes += size;
      else readWriteBytes += size;
    });
    const bindGroup = this.device.createBindGroup({ layout, entries, label: spec.name });
    const timed = this.timer?.slot(spec.name);
    if (timed) {
      // profiling: one pass per dispatch, with timestamps at its start and end
      this.endPass();
      this.pass = this.getEncoder().beginComputePass({ timestampWrites: timed });
    }
    const pass = this.getPass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(x, y, z);
    if (timed) this.endPass();
    this.dispatchCount++;
    this.boundReadBytes += readBytes;
    this.boundReadWriteBytes += readWriteBytes;
    if (this.costLog) {
      const c = this.costLog.get(spec.name) ?? { kernel: spec.name, dispatches: 0, readBytes: 0, readWriteBytes: 0, buffers: [] };
      c.dispatches++;
      c.readBytes += readBytes;
      c.readWriteBytes += readWriteBytes;
      if (c.dispatches === 1) c.buffers = opts.buffers.map((t, i) => ({ label: t.label, bytes: Math.max(4, t.size * 4), access: spec.buffers[i] }));
      this.costLog.set(spec.name, c);
    }
  }

  /** Starts logging dispatches and bound storage bytes per kernel (stopCostLog returns them). */
  startCostLog(): void {
    this.costLog = new Map();
  }

  /** Stops the cost log: per kernel name, its dispatches and bound bytes since startCostLog, in first-seen order. */
  stopCostLog(): KernelCost[] {
    const log = [...(this.costLog?.values() ?? [])];
    this.costLog = null;
    return log;
  }

  /** Starts timing every dispatch on the GPU (timestamp queries; each dispatch gets its own pass, so
   * it is slower: for profiling only). Returns false when the adapter has no timestamp-query feature. */
  startKernelTimer(): boolean {
    if (!this.device.features.has('timestamp-query')) return false;
    this.flush();
    this.timer = new KernelTimer(this.device);
    return true;
  }

  /** Stops timing; returns GPU milliseconds and dispatch counts per kernel, largest first. */
  async stopKernelTimer(): Promise<{ kernel: string; ms: number; count: number }[]> {
    const timer = this.timer;
    if (!timer) return [];
    this.flush();
    this.timer = null;
    await this.device.queue.onSubmittedWorkDone();
    const result = await timer.collect();
    timer.destroy();
    return result;
  }

  /** Submits everything recorded so far. */
  flush(): void {
    if (!this.encoder) return;
    this.endPass();
    if (this.paramsUsed > 0) {
      this.device.queue.writeBuffer(this.paramsBuffer, 0, this.paramsStaging, 0, this.paramsUsed * PARAM_SLOT);
      this.paramsUsed = 0;
    }
    this.timer?.resolve(this.encoder);
    this.device.queue.submit([this.encoder.finish()]);
    this.encoder = null;
    this.submitCount++;
  }

  /** Waits until the GPU has finished all submitted work. */
  async sync(): Promise<void> {
    this.flush();
    await this.device.queue.onSubmittedWorkDone();
    this.throwIfErrors();
  }

  throwIfErrors(): void {
    if (this.lostReason) throw new Error(this.lostReason);
    if (this.errors.length) {
      const msg = this.errors.splice(0).join('\n');
      throw new Error(`GPU error: ${msg}`);
    }
  }

  destroy(): void {
    this.encoder = null;
    this.pass = null;
    this.pool.trim();
    this.device.destroy();
    this.keepAlive = null;
  }

  /** What an out-of-memory error means for a run: what this engine holds and what to reduce. */
  outOfMemoryMessage(detail: string): string {
    const st = this.pool.stats;
    return `the GPU ran out of memory (${detail.split('\n')[0]}). This run holds ${formatBytes(st.bytesAllocated)} in ` +
      `${st.buffersAllocated} buffers (${formatBytes(st.bytesInUse)} in use; largest single buffer allowed ` +
      `${formatBytes(this.device.limits.maxBufferSize)}). Reduce what a step holds at once: prompts_per_step, ` +
      `num_generations, max_completion_length or max_prompt_length, or choose a smaller model`;
  }

  describe(): string {
    const a = this.adapter;
    return `${a.vendor || 'unknown vendor'} ${a.architecture || ''} ${a.description || a.device || ''}`.replace(/\s+/g, ' ').trim() +
      ` (max buffer ${formatBytes(this.device.limits.maxBufferSize)})`;
  }

  private getEncoder(): GPUCommandEncoder {
    if (!this.encoder) this.encoder = this.device.createCommandEncoder({ label: 'grpo-playground' });
    return this.encoder;
  }

  private getPass(): GPUComputePassEncoder {
    if (!this.pass) this.pass = this.getEncoder().beginComputePass();
    return this.pass;
  }

  private endPass(): void {
    if (this.pass) {
      this.pass.end();
      this.pass = null;
    }
  }
}

/** Per-dispatch GPU timestamps for profiling: query pairs resolved at each submit, read back at the end. */
class KernelTimer {
  private static readonly CAPACITY = 2048; // dispatches per submit
  private querySet: GPUQuerySet;
  private names: string[] = [];
  private pending: { names: string[]; buffer: GPUBuffer }[] = [];

  constructor(private readonly device: GPUDevice) {
    this.querySet = device.createQuerySet({ type: 'timestamp', count: 2 * KernelTimer.CAPACITY, label: 'kernel timer' });
  }

  /** Timestamp writes for the next dispatch, or undefined when this submit's slots are used up. */
  slot(name: string): GPUComputePassTimestampWrites | undefined {
    if (this.names.length >= KernelTimer.CAPACITY) return undefined;
    const i = this.names.length;
    this.names.push(name);
    return { querySet: this.querySet, beginningOfPassWriteIndex: 2 * i, endOfPassWriteIndex: 2 * i + 1 };
  }

  resolve(encoder: GPUCommandEncoder): void {
    if (this.names.length === 0) return;
    const bytes = 16 * this.names.length;
    const resolved = this.device.createBuffer({ size: bytes, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC });
    const readable = this.device.createBuffer({ size: bytes, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    encoder.resolveQuerySet(this.querySet, 0, 2 * this.names.length, resolved, 0);
    encoder.copyBufferToBuffer(resolved, 0, readable, 0, bytes);
    this.pending.push({ names: this.names, buffer: readable });
    this.names = [];
  }


  async collect(): Promise<{ kernel: string; ms: number; count: number }[]> {
    const totals = new Map<string, { ms: number; count: number }>();
    for (const { names, buffer } of this.pending) {
      await buffer.mapAsync(GPUMapMode.READ);
      const t = new BigUint64Array(buffer.getMappedRange().slice(0));
      buffer.unmap();
      buffer.destroy();
      names.forEach((name, i) => {
        const ms = Number(t[2 * i + 1] - t[2 * i]) / 1e6;
        const e = totals.get(name) ?? { ms: 0, count: 0 };
        e.ms += ms > 0 && ms < 1e7 ? ms : 0;
        e.count++;
        totals.set(name, e);
      });
    }
    this.pending = [];
    return [...totals].map(([kernel, v]) => ({ kernel, ...v })).sort((a, b) => b.ms - a.ms);
  }

  destroy(): void {
    this.querySet.destroy();
  }
}

function isOutOfMemory(e: GPUError): boolean {
  const ctor = (globalThis as { GPUOutOfMemoryError?: new (...a: never[]) => GPUError }).GPUOutOfMemoryError;
  return (ctor !== undefined && e instanceof ctor) || e.constructor?.name === 'GPUOutOfMemoryError';
}

/** Splits a 1-D workgroup count over x and y so that neither exceeds 65535. Shaders compute the linear
 * workgroup index as `wid.x + wid.y * nwg.x` and return when it is past the end. */
export function grid(workgroups: number): [number, number] {
  if (workgroups <= 65535) return [Math.max(workgroups, 0), 1];
  const y = Math.ceil(workgroups / 65535);
  return [Math.ceil(workgroups / y), y];
}

function toTyped(data: ArrayLike<number>, dtype: DType): Float32Array | Uint32Array | Int32Array {
  if (dtype === 'f32') return data instanceof Float32Array ? data : Float32Array.from(data);
  if (dtype === 'u32') return data instanceof Uint32Array ? data : Uint32Array.from(data);
  return data instanceof Int32Array ? data : Int32Array.from(data);
}
