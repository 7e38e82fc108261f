// A device that records nothing and runs nothing, for exact memory planning: a GpuRuntime over it runs the
// engine's host code unchanged (the same tensors acquired and released in the same order, through the same
// buffer pool and its counters), while dispatches, copies and uploads do nothing and readbacks return zeros.
// The pool's peakBytesAllocated after a dry training step is then exactly the peak a real step allocates
// with the same shapes (test/grpo/memory_plan.test.ts checks it against a real adapter).
// It is not a GPU: nothing computed on it means anything, and it is used for nothing else.

import { GpuRuntime, type AdapterSummary } from './runtime';

/** WebGPU's flag values (the spec's), for hosts without WebGPU globals (the CLI's `plan` without a GPU). */
function ensureWebGpuConstants(): void {
  const g = globalThis as Record<string, unknown>;
  g.GPUBufferUsage ??= { MAP_READ: 1, MAP_WRITE: 2, COPY_SRC: 4, COPY_DST: 8, INDEX: 16, VERTEX: 32, UNIFORM: 64, STORAGE: 128, INDIRECT: 256, QUERY_RESOLVE: 512 };
  g.GPUMapMode ??= { READ: 1, WRITE: 2 };
  g.GPUShaderStage ??= { VERTEX: 1, FRAGMENT: 2, COMPUTE: 4 };
}

export interface DryDeviceLimits {
  maxBufferSize: number;
  maxStorageBufferBindingSize: number;
  /** picks the attention backward's form (the fused one binds 9 storage buffers, the two-pass one a D scratch
   * more); default 8, WebGPU's default limit, which every adapter grants. Plans for a device pass its own
   * (dryLimitsOf), so that they run the kernels the device will. */
  maxStorageBuffersPerShaderStage?: number;
}

/** The limits of `gpu`'s device that change what a step allocates, for planning a step on it. */
export function dryLimitsOf(gpu: GpuRuntime): DryDeviceLimits {
  const l = gpu.device.limits;
  return { maxBufferSize: l.maxBufferSize, maxStorageBufferBindingSize: l.maxStorageBufferBindingSize, maxStorageBuffersPerShaderStage: l.maxStorageBuffersPerShaderStage };
}

/** The limits of a typical desktop browser adapter (Chrome's common storage-binding limit). */
export const DEFAULT_DRY_LIMITS: DryDeviceLimits = { maxBufferSize: 2 ** 31, maxStorageBufferBindingSize: 2 ** 31 };

function dryBuffer(desc: GPUBufferDescriptor): GPUBuffer {
  const size = desc.size;
  return {
    size,
    usage: desc.usage,
    label: desc.label ?? '',
    mapState: 'unmapped',
    destroy() {},
    unmap() {},
    mapAsync: async () => undefined,
    getMappedRange: (_offset?: number, bytes?: number) => new ArrayBuffer(bytes ?? size),
  } as unknown as GPUBuffer;
}

function dryPass(): GPUComputePassEncoder {
  return { setPipeline() {}, setBindGroup() {}, dispatchWorkgroups() {}, end() {} } as unknown as GPUComputePassEncoder;
}

function dryEncoder(): GPUCommandEncoder {
  return {
    beginComputePass: () => dryPass(),
    copyBufferToBuffer() {},
    clearBuffer() {},
    resolveQuerySet() {},
    finish: () => ({}) as GPUCommandBuffer,
  } as unknown as GPUCommandEncoder;
}

function dryDevice(limits: DryDeviceLimits): GPUDevice {
  const allLimits = { maxComputeWorkgroupsPerDimension: 65535, maxStorageBuffersPerShaderStage: 8, ...limits };
  return {
    limits: allLimits,
    features: new Set<string>(),
    adapterInfo: { vendor: 'none', architecture: 'dry-run', device: '', description: 'memory planning (no GPU)', subgroupMinSize: 0, subgroupMaxSize: 0 },
    lost: new Promise(() => {}),
    addEventListener() {},
    createBuffer: dryBuffer,
    createShaderModule: () => ({}),
    createBindGroupLayout: () => ({}),
    createPipelineLayout: () => ({}),
    createComputePipeline: () => ({}),
    createBindGroup: () => ({}),
    createCommandEncoder: () => dryEncoder(),
    createQuerySet: () => ({ destroy() {} }),
    queue: { writeBuffer() {}, submit() {}, onSubmittedWorkDone: async () => undefined },
    destroy() {},
  } as unknown as GPUDevice;
}

/** A runtime for planning: the engine's host code runs on it, GPU work does not. */
export function createDryRuntime(limits: DryDeviceLimits = DEFAULT_DRY_LIMITS, like: Partial<AdapterSummary> = {}): GpuRuntime {
  ensureWebGpuConstants();
  const summary: AdapterSummary = {
    vendor: 'none',
    architecture: 'dry-run',
    device: '',
    description: 'memory planning (no GPU)',
    features: [],
    limits: { ...limits },
    isSoftware: false,
    ...like,
  };
  return new GpuRuntime(dryDevice(limits), summary);
}
