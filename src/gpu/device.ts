// Adapter and device acquisition, the same in a page, a Web Worker and Node. Requests the adapter's
// larger buffer limits (the defaults are 128 MiB / 256 MiB) and says clearly when there is no adapter.

import { GpuRuntime, type AdapterSummary } from './runtime';

/** Limits worth raising to what the adapter supports. */
const RAISED_LIMITS = [
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupSizeY',
  'maxStorageBuffersPerShaderStage',
  'maxComputeWorkgroupsPerDimension',
] as const;

/** Features used when present. */
const OPTIONAL_FEATURES: GPUFeatureName[] = ['timestamp-query', 'subgroups', 'shader-f16'];

export const WEBGPU_HELP =
  'WebGPU is not available. Use a recent Chrome or Edge (113+) with hardware acceleration on, or enable ' +
  'chrome://flags/#enable-unsafe-webgpu (Linux), Safari 26+, or Firefox 141+ on Windows.';

export async function acquireGpu(gpu: GPU | undefined = globalThis.navigator?.gpu): Promise<GpuRuntime> {
  if (!gpu) throw new Error(WEBGPU_HELP);
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) throw new Error(`No WebGPU adapter was found. ${WEBGPU_HELP}`);
  return createRuntime(adapter);
}

export async function createRuntime(adapter: GPUAdapter): Promise<GpuRuntime> {
  const requiredLimits: Record<string, number> = {};
  for (const name of RAISED_LIMITS) {
    const v = (adapter.limits as unknown as Record<string, number>)[name];
    if (typeof v === 'number') requiredLimits[name] = v;
  }
  const requiredFeatures = OPTIONAL_FEATURES.filter((f) => adapter.features.has(f));
  const device = await adapter.requestDevice({ requiredLimits, requiredFeatures, label: 'grpo-playground' });
  return new GpuRuntime(device, summarizeAdapter(adapter));
}

export function summarizeAdapter(adapter: GPUAdapter): AdapterSummary {
  const info = adapter.info ?? ({} as GPUAdapterInfo);
  const limits: Record<string, number> = {};
  for (const name of [...RAISED_LIMITS, 'maxComputeWorkgroupSizeZ', 'minUniformBufferOffsetAlignment']) {
    const v = (adapter.limits as unknown as Record<string, number>)[name];
    if (typeof v === 'number') limits[name] = v;
  }
  const vendor = info.vendor ?? '';
  const architecture = info.architecture ?? '';
  const description = info.description ?? '';
  const software = /swiftshader|llvmpipe|lavapipe|software|warp/i.test(`${vendor} ${architecture} ${description} ${info.device ?? ''}`)
    || (info as unknown as { isFallbackAdapter?: boolean }).isFallbackAdapter === true;
  return {
    vendor,
    architecture,
    device: info.device ?? '',
    description,
    features: [...adapter.features].map(String).sort(),
    limits,
    isSoftware: software,
  };
}
