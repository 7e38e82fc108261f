// Pipeline cache: one compute pipeline per (kernel, entry point, override constants), with an explicit
// bind group layout: binding 0 is the kernel's uniform params (when it has any), then its storage buffers.

export type BufferAccess = 'read' | 'read_write';

export interface KernelSpec {
  /** kernel name; labels every GPU object so that errors name the kernel */
  readonly name: string;
  readonly code: string;
  readonly entryPoint?: string;
  /** access of storage bindings 1..n, in binding order */
  readonly buffers: readonly BufferAccess[];
  /** whether binding 0 is a uniform params struct */
  readonly hasParams: boolean;
}

export interface CachedPipeline {
  pipeline: GPUComputePipeline;
  layout: GPUBindGroupLayout;
}

export class PipelineCache {
  private cache = new Map<string, CachedPipeline>();
  private modules = new Map<string, GPUShaderModule>();

  constructor(private readonly device: GPUDevice) {}

  get size(): number {
    return this.cache.size;
  }

  /** The kernel's shader module (one per kernel name, shared by its entry points and override sets); its
   * getCompilationInfo() holds the WGSL compiler's messages (test/compile_null_backend.test.ts). */
  module(spec: KernelSpec): GPUShaderModule {
    let module = this.modules.get(spec.name);
    if (!module) {
      module = this.device.createShaderModule({ code: spec.code, label: spec.name });
      this.modules.set(spec.name, module);
    }
    return module;
  }

  get(spec: KernelSpec, overrides: Record<string, number> = {}): CachedPipeline {
    const entryPoint = spec.entryPoint ?? 'main';
    const key = `${spec.name}:${entryPoint}:${JSON.stringify(overrides)}`;
    let hit = this.cache.get(key);
    if (hit) return hit;
    const module = this.module(spec);
    const entries: GPUBindGroupLayoutEntry[] = [];
    if (spec.hasParams) {
      entries.push({ binding: 0, visibility: GPUShaderStage.COMPUTE, buffer: { type: 'uniform' } });
    }
    spec.buffers.forEach((access, i) => {
      entries.push({
        binding: i + 1,
        visibility: GPUShaderStage.COMPUTE,
        buffer: { type: access === 'read' ? 'read-only-storage' : 'storage' },
      });
    });
    const layout = this.device.createBindGroupLayout({ entries, label: spec.name });
    const pipeline = this.device.createComputePipeline({
      label: spec.name,
      layout: this.device.createPipelineLayout({ bindGroupLayouts: [layout], label: spec.name }),
      compute: { module, entryPoint, constants: overrides },
    });
    hit = { pipeline, layout };
    this.cache.set(key, hit);
    return hit;
  }
}
