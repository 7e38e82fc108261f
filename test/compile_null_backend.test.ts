// Every shader variant compiled by Dawn's WGSL compiler (Tint) on Dawn's Null backend, which has the
// 'shader-f16' and 'subgroups' features that neither SwiftShader adapter offers. The Null backend validates
// WGSL in full and creates pipelines (override constants substituted, workgroup limits checked) but runs
// nothing, so this proves the shader-f16 and subgroup kernels compile, not that they compute the right thing
// (test/matmul_packed16_f16_logic.test.ts checks the f16 kernels' logic with their f16 lines swapped for f32).
// Each variant goes through the runtime's own path: the descriptor's spec (//#include resolved by
// defineKernel) and the pipeline cache (src/gpu/pipeline_cache.ts), with the override constants its host
// passes. Covered:
//   - every kernel descriptor of src/gpu/kernels/*.ts and src/bench/fma_ceiling.ts, at its default overrides;
//   - matmul / matmul_subgroup with each TRANS_A, TRANS_B; matmul_tiled at each MATMUL_TILES shape;
//   - matmul_tiled_subgroup at each MATMUL_SUBGROUP_TILES shape: the subgroup size is the run-time builtin
//     subgroup_size (no override), so one pipeline per tile serves every subgroup size;
//   - every GPU-class packed 16-bit matmul (tiled, smallm, the shader-f16 tiles), forward and backward, each
//     format it takes, with packed16Dispatch's overrides; block8 with each FORMAT;
//   - every quantised-weight matmul variant (matmul_quant_variants.ts), forward and backward, each block type,
//     with quantDispatch's overrides; the plain kernels with each QTYPE;
//   - attention (direct and tiled, 'tiled' and 'tiled_16k') at the tiles its host picks for head sizes 8, 64,
//     128, 256 and 512, with and without a sliding window; the single-tile forward and the fused backward at
//     T = 16 where they fit.
// Other host-chosen overrides (workgroup sizes WG, FORMAT / RING of the KV-cache kernels, SCALE, W_OFFSET)
// are compiled at their defaults only.
import { beforeAll, describe, expect, test } from 'vitest';
import { createRuntime } from '../src/gpu/device';
import { isKernelDescriptor, type KernelDescriptor } from '../src/gpu/kernel';
import { ATTENTION_BACKWARD_DKV, ATTENTION_BACKWARD_DQ, ATTENTION_BACKWARD_FUSED, ATTENTION_FORWARD, FUSED_BACKWARD_STORAGE_BUFFERS, attentionTiles, fusedBackwardTiles, singleTileKeys } from '../src/gpu/kernels/attention';
import { windowOverride } from '../src/gpu/kernels/attention_common';
import { ATTENTION_TILED_BACKWARD_DKV, ATTENTION_TILED_BACKWARD_DQ, ATTENTION_TILED_FORWARD, tilesFor } from '../src/gpu/kernels/attention_tiled';
import { MATMUL, MATMUL_SUBGROUP, MATMUL_SUBGROUP_TILES, MATMUL_TILED, MATMUL_TILED_SUBGROUP, MATMUL_TILES } from '../src/gpu/kernels/matmul';
import { MATMUL_PACKED16_BACKWARD, MATMUL_PACKED16_FORWARD } from '../src/gpu/kernels/matmul_packed16';
import { EMBEDDING_QUANT_FORWARD, MATMUL_QUANT_BACKWARD, MATMUL_QUANT_FORWARD } from '../src/gpu/kernels/matmul_quant';
import { ggmlType, QUANT_KERNEL_TYPES } from '../src/ops/ggml_types';
import {
  ALL_PACKED16_PATHS,
  PACKED16_F16_TILES,
  packed16Dispatch,
  packed16VariantKernel,
  type Packed16Path,
} from '../src/gpu/kernels/matmul_packed16_variants';
import { ALL_QUANT_PATHS, quantDispatch, quantVariantKernel, type QuantPath } from '../src/gpu/kernels/matmul_quant_variants';
import type { GpuRuntime } from '../src/gpu/runtime';

const REQUIRED = ['shader-f16', 'subgroups'] as const;

/** A device on Dawn's Null backend with shader-f16 and subgroups; throws saying what is missing. */
async function acquireNullBackendGpu(): Promise<GpuRuntime> {
  const { create, globals } = await import('webgpu');
  Object.assign(globalThis, globals);
  const instance = create(['backend=null']);
  const adapter = await instance.requestAdapter();
  const what = "Dawn's Null backend (create(['backend=null']) from the `webgpu` package)";
  if (!adapter) throw new Error(`${what} gave no adapter (an older webgpu build?), so the shader-f16 and subgroup kernels cannot be compiled on this machine`);
  if (adapter.info.device !== 'null-backend') {
    throw new Error(`${what} gave the adapter "${adapter.info.device}", not 'null-backend'`);
  }
  const lacking = REQUIRED.filter((f) => !adapter.features.has(f));
  if (lacking.length) throw new Error(`${what} lacks ${lacking.join(', ')}: the kernels needing them cannot be compiled here`);
  const gpu = await createRuntime(adapter); // requests every optional feature the adapter has
  gpu.keepAlive = instance;
  const notEnabled = REQUIRED.filter((f) => !gpu.device.features.has(f));
  if (notEnabled.length) throw new Error(`${what}: the device was created without ${notEnabled.join(', ')}`);
  return gpu;
}

interface Variant {
  name: string;
  kernel: KernelDescriptor;
  overrides: Record<string, number>;
}

const modules = import.meta.glob(['../src/gpu/kernels/*.ts', '../src/bench/fma_ceiling.ts'], { eager: true });
const descriptors = [
  ...new Set(Object.values(modules).flatMap((mod) => Object.values(mod as Record<string, unknown>).filter(isKernelDescriptor))),
];
const label = (k: KernelDescriptor) => `${k.name}${k.entryPoint ? `:${k.entryPoint}` : ''}`;
const at = (k: KernelDescriptor, overrides: Record<string, number>, what: string): Variant => ({ name: `${label(k)} [${what}]`, kernel: k, overrides });

/** The matmul variants (software and GPU-class, f32 and packed 16-bit) with their hosts' overrides. */
function matmulVariants(): Variant[] {
  const out: Variant[] = [];
  for (const k of [MATMUL, MATMUL_SUBGROUP]) {
    for (const TRANS_A of [0, 1]) for (const TRANS_B of [0, 1]) out.push(at(k, { TRANS_A, TRANS_B }, `TRANS_A=${TRANS_A} TRANS_B=${TRANS_B}`));
  }
  for (const [tile, t] of Object.entries(MATMUL_TILES)) out.push(at(MATMUL_TILED, { ...t }, tile));
  for (const [tile, t] of Object.entries(MATMUL_SUBGROUP_TILES)) out.push(at(MATMUL_TILED_SUBGROUP, { ...t }, tile));
  for (const k of [MATMUL_PACKED16_FORWARD, MATMUL_PACKED16_BACKWARD]) {
    for (const FORMAT of [0, 1]) out.push(at(k, { FORMAT }, `block8 FORMAT=${FORMAT}`));
  }
  // the quantised-weight kernels with each ggml block type they read (QTYPE)
  for (const k of [MATMUL_QUANT_FORWARD, MATMUL_QUANT_BACKWARD, EMBEDDING_QUANT_FORWARD]) {
    for (const type of QUANT_KERNEL_TYPES) out.push(at(k, { QTYPE: ggmlType(type).id }, type));
  }
  // every quantised variant (block rows, split-K, split-K with subgroups) x direction x block type, with quantDispatch's overrides
  for (const path of ALL_QUANT_PATHS) {
    if (path === 'plain') continue;
    for (const dir of ['forward', 'backward'] as const) {
      for (const type of QUANT_KERNEL_TYPES) {
        const { overrides } = quantDispatch(path as Exclude<QuantPath, 'plain'>, { dir, type, M: 64, K: 256, N: 64 });
        out.push(at(quantVariantKernel(path as Exclude<QuantPath, 'plain'>, dir), overrides, `${path} ${type}`));
      }
    }
  }
  for (const path of ALL_PACKED16_PATHS) {
    if (path === 'block8') continue;
    const formats = path in PACKED16_F16_TILES ? (['f16'] as const) : (['bf16', 'f16'] as const);
    for (const dir of ['forward', 'backward'] as const) {
      for (const format of formats) {
        const { overrides } = packed16Dispatch(path as Exclude<Packed16Path, 'block8'>, { dir, format, M: 64, K: 64, N: 64 });
        out.push(at(packed16VariantKernel(path as Exclude<Packed16Path, 'block8'>, dir), overrides, `${path} ${format}`));
      }
    }
  }
  return out;
}

/** Attention at the tiles its hosts pick for real head sizes (stories260K 8; SmolLM2 / Qwen2.5 / Llama 64;
 * Qwen3 128; Gemma 3 256; Gemma 4's full layers 512), full and sliding-window. */
function attentionVariants(gpu: GpuRuntime): Variant[] {
  const out: Variant[] = [];
  for (const HS of [8, 64, 128, 256, 512]) {
    for (const size of [0, 512]) {
      const window = windowOverride({ window: size }); // the hosts' own: {} for full attention
      const w = size ? ` window=${size}` : '';
      const d = attentionTiles(HS);
      out.push(at(ATTENTION_FORWARD, { HS4: d.HS4, RG: d.RG, BK: d.BK, ...window }, `HS=${HS}${w}`));
      out.push(at(ATTENTION_BACKWARD_DQ, { HS4: d.HS4, RG: d.RG, BK: d.BK, ...window }, `HS=${HS}${w}`));
      out.push(at(ATTENTION_BACKWARD_DKV, { HS4: d.HS4, KG: d.KG, BR: d.BR, ...window }, `HS=${HS}${w}`));
      if (!size) {
        // the shared-prefix mask (share_prompt_prefix_training), full attention only
        out.push(at(ATTENTION_FORWARD, { HS4: d.HS4, RG: d.RG, BK: d.BK, SEGMENTED: 1 }, `HS=${HS} segmented`));
        out.push(at(ATTENTION_BACKWARD_DQ, { HS4: d.HS4, RG: d.RG, BK: d.BK, SEGMENTED: 1 }, `HS=${HS} segmented`));
        out.push(at(ATTENTION_BACKWARD_DKV, { HS4: d.HS4, KG: d.KG, BR: d.BR, SEGMENTED: 1 }, `HS=${HS} segmented`));
      }
      // the short-sequence forms at T = 16 (G = 1 and 3) where they fit
      for (const G of [1, 3]) {
        const short = { B: 1, T: 16, NH: G, NKV: 1, HS };
        const bk = singleTileKeys(short);
        if (bk !== null && G === 1) out.push(at(ATTENTION_FORWARD, { HS4: d.HS4, RG: d.RG, BK: bk, ONE_TILE: 1, ...window }, `single_tile HS=${HS}${w}`));
        const f = fusedBackwardTiles(short);
        // the host offers the fused backward only where the device allows its 9 storage buffers
        const buffersOk = gpu.device.limits.maxStorageBuffersPerShaderStage >= FUSED_BACKWARD_STORAGE_BUFFERS;
        if (f && buffersOk) out.push(at(ATTENTION_BACKWARD_FUSED, { ...f, ...window }, `fused G=${G} HS=${HS}${w}`));
      }
      for (const path of ['tiled', 'tiled_16k'] as const) {
        const t = tilesFor(gpu, path, HS);
        if (!t) continue; // the host does not offer it for this head size on this device
        const { forward: f, dq, dkv } = t;
        out.push(at(ATTENTION_TILED_FORWARD, { HS4: t.HS4, RG: f.groups, BK: f.tile, S: f.S, ...window }, `${path} HS=${HS}${w}`));
        out.push(at(ATTENTION_TILED_BACKWARD_DQ, { HS4: t.HS4, RG: dq.groups, BK: dq.tile, S: dq.S, ...window }, `${path} HS=${HS}${w}`));
        out.push(at(ATTENTION_TILED_BACKWARD_DKV, { HS4: t.HS4, KG: dkv.groups, BR: dkv.tile, S: dkv.S, ...window }, `${path} HS=${HS}${w}`));
      }
    }
  }
  return out;
}

/** Compiles one variant through the pipeline cache; the problems found (empty: it compiled). */
async function compileProblems(gpu: GpuRuntime, v: Variant): Promise<string[]> {
  const problems: string[] = [];
  gpu.device.pushErrorScope('validation');
  const info = await gpu.pipelines.module(v.kernel.spec).getCompilationInfo();
  for (const m of info.messages) {
    if (m.type !== 'error') console.warn(`${v.name}: WGSL ${m.type} at line ${m.lineNum}:${m.linePos} of the source with includes resolved: ${m.message}`);
    if (m.type === 'error') problems.push(`${v.name}: WGSL error at line ${m.lineNum}:${m.linePos} of the source with includes resolved: ${m.message}`);
  }
  try {
    gpu.pipelines.get(v.kernel.spec, v.overrides);
  } catch (e) {
    problems.push(`${v.name}: createComputePipeline threw: ${(e as Error).message}`);
  }
  const err = await gpu.device.popErrorScope();
  if (err) problems.push(`${v.name}: validation error: ${err.message}`);
  return problems;
}

/** One variant after another: an error scope catches what happens while it is the innermost, so scopes
 * must not interleave across awaits. */
async function compileAll(gpu: GpuRuntime, variants: readonly Variant[]): Promise<string[]> {
  const problems: string[] = [];
  for (const v of variants) problems.push(...(await compileProblems(gpu, v)));
  return problems;
}

describe("every shader variant compiles on Dawn's Null backend (shader-f16, subgroups)", () => {
  let g: GpuRuntime;
  beforeAll(async () => {
    g = await acquireNullBackendGpu();
  });

  test('the Null backend device has shader-f16 and subgroups', async () => {
    expect(REQUIRED.filter((f) => g.device.features.has(f))).toEqual([...REQUIRED]);
  });

  test('the shader-f16 packed matmuls: every f16 tile, forward and backward', async () => {
    const f16 = matmulVariants().filter((v) => v.kernel.name.includes('_f16_'));
    expect(f16).toHaveLength(2 * Object.keys(PACKED16_F16_TILES).length);
    expect((await compileAll(g, f16)).join('\n')).toBe('');
  });

  test('the subgroup tiled matmul: every tile (the subgroup size is a run-time value)', async () => {
    const sg = matmulVariants().filter((v) => v.kernel === MATMUL_TILED_SUBGROUP);
    expect(sg).toHaveLength(Object.keys(MATMUL_SUBGROUP_TILES).length);
    expect((await compileAll(g, sg)).join('\n')).toBe('');
  });

  test('every other matmul variant, attention at real head sizes, and every kernel descriptor at its defaults', async () => {
    const others = matmulVariants().filter((v) => !v.kernel.name.includes('_f16_') && v.kernel !== MATMUL_TILED_SUBGROUP);
    // a kernel binding more storage buffers than this device allows is never run on it by its host
    // (attention_backward_fused: 9, where the Null backend allows 8; chooseBackwardForm checks the limit)
    const maxBuffers = g.device.limits.maxStorageBuffersPerShaderStage;
    const tooMany = descriptors.filter((k) => Object.keys(k.buffers).length > maxBuffers).map((k) => k.name);
    expect(tooMany).toEqual(maxBuffers >= FUSED_BACKWARD_STORAGE_BUFFERS ? [] : ['attention_backward_fused']);
    const fits = descriptors.filter((k) => Object.keys(k.buffers).length <= maxBuffers);
    const all = [...others, ...attentionVariants(g), ...fits.map((k) => at(k, {}, 'defaults'))];
    expect(descriptors.length).toBeGreaterThan(60);
    expect((await compileAll(g, all)).join('\n')).toBe('');
    expect(g.pipelines.size).toBeGreaterThanOrEqual(all.length - fits.length);
    expect(g.errors).toEqual([]);
  });

  test('a WGSL error, or a pipeline its overrides make invalid, fails the check with the message', async () => {
    const broken = {
      ...MATMUL_PACKED16_FORWARD,
      spec: { ...MATMUL_PACKED16_FORWARD.spec, name: 'probe (broken)', code: 'enable f16;\n@compute @workgroup_size(1) fn main() { var x: f32 = f16(1.0); }' },
    };
    const problems = await compileProblems(g, at(broken, {}, 'probe'));
    expect(problems.join('\n')).toMatch(/cannot initialize 'var' of type 'f32' with value of type 'f16'/);
    // a module that compiles, with overrides that make the pipeline invalid (48 KiB of workgroup memory)
    const tooBig = await compileProblems(g, at(MATMUL_TILED, { WG_X: 16, WG_Y: 16, TM: 8, TK: 64 }, 'too big'));
    expect(tooBig.join('\n')).toMatch(/workgroup storage \(49152 bytes\) is larger than the maximum allowed/);
  });
});
