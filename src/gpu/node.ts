// Node entry to the GPU: Dawn through the `webgpu` npm package. On a machine without a GPU, Vulkan is
// pointed at SwiftShader's driver, which Debian's chromium package ships (see the README).

import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRuntime } from './device';
import type { GpuRuntime } from './runtime';

export const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

export interface NodeGpuOptions {
  /** 'auto' (default): a hardware adapter if there is one, else SwiftShader; 'software': SwiftShader only */
  adapter?: 'auto' | 'software';
}

export async function acquireNodeGpu(opts: NodeGpuOptions = {}): Promise<GpuRuntime> {
  const { create, globals } = await import('webgpu');
  Object.assign(globalThis, globals);
  if (!process.env.XDG_RUNTIME_DIR) process.env.XDG_RUNTIME_DIR = mkdtempSync(join(tmpdir(), 'xdg-'));
  const mode = opts.adapter ?? (process.env.GRPO_ADAPTER === 'software' ? 'software' : 'auto');

  // The GPU instance must outlive its adapter and device (Dawn crashes if it is collected first), so the
  // runtime keeps it; dropping the runtime (after destroy()) lets Node exit.
  let instance: GPU | null = null;
  let adapter: GPUAdapter | null = null;
  if (mode === 'auto' && !process.env.VK_ICD_FILENAMES && hasGpuDevice()) {
    instance = create([]);
    adapter = await instance.requestAdapter({ powerPreference: 'high-performance' });
    if (adapter && isRefused(adapter)) adapter = null;
  }
  if (!adapter) {
    if (!process.env.VK_ICD_FILENAMES) {
      if (!existsSync(SWIFTSHADER_ICD)) {
        throw new Error(
          `No GPU adapter was found and SwiftShader is missing (${SWIFTSHADER_ICD}). ` +
            'Install it with: sudo apt-get install -y chromium libvulkan1',
        );
      }
      process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
    }
    instance = create([]);
    adapter = await instance.requestAdapter();
  }
  if (!adapter) {
    throw new Error(
      `No WebGPU adapter was found (VK_ICD_FILENAMES=${process.env.VK_ICD_FILENAMES}). ` +
        'Install the Vulkan loader and SwiftShader with: sudo apt-get install -y chromium libvulkan1',
    );
  }
  const runtime = await createRuntime(adapter);
  runtime.keepAlive = instance;
  return runtime;
}

/** Whether the machine exposes a GPU device node at all (else we go straight to SwiftShader, and Dawn
 * does not print warnings about the CPU Vulkan drivers it refuses). */
function hasGpuDevice(): boolean {
  if (process.platform !== 'linux') return true;
  try {
    return readdirSync('/dev/dri').some((f) => f.startsWith('renderD')) || existsSync('/dev/nvidia0');
  } catch {
    return existsSync('/dev/nvidia0');
  }
}

/** Adapters Dawn offers that cannot run our kernels well (CPU fallbacks other than SwiftShader). */
function isRefused(adapter: GPUAdapter): boolean {
  const info = adapter.info;
  return /llvmpipe|lavapipe/i.test(`${info?.description ?? ''} ${info?.device ?? ''}`);
}
