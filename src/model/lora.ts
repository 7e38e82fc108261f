// LoRA adapters on the GPU with PEFT's semantics: for a target linear layer W (OUT, IN),
// y = x W^T + scale * (x A^T) B^T, A (R, IN) Kaiming-uniform, B (OUT, R) zeros, scale = alpha / R
// (or alpha / sqrt(R) with rsLoRA). Module names follow Hugging Face's Llama: q_proj ... down_proj; Qwen3.5's
// linear layers add in_proj_qkv, in_proj_z, in_proj_b, in_proj_a and out_proj (linear_attn.*), which exist only
// on those layers (as q/k/v/o_proj only on its full layers): a target gets a pair on every layer that has it.

import type { GpuRuntime } from '../gpu/runtime';
import type { Tensor } from '../gpu/tensor';
import type { ModelConfig } from './config';
import { Rng } from '../util/random';
import { isLinearAttentionLayer, LINEAR_ATTN_MODULES, linearAttnModuleDims, type LinearAttnModule } from './weights_qwen35';
import { gemma4Layers } from './gemma4_config';
import { gemma4ModuleDims, gemma4OwnsModule, type Gemma4Module } from './gemma4_lora';

export const LORA_MODULES = ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'] as const;
export type LoraModule = (typeof LORA_MODULES)[number] | LinearAttnModule;

function isLinearAttnModule(m: string): m is LinearAttnModule {
  return (LINEAR_ATTN_MODULES as readonly string[]).includes(m);
}

/** Whether layer l has the module (Qwen3.5: linear layers have in_proj_* / out_proj instead of q/k/v/o_proj). */
export function layerHasModule(c: ModelConfig, layer: number, module: LoraModule): boolean {
  if (module === 'gate_proj' || module === 'up_proj' || module === 'down_proj') return true;
  return isLinearAttentionLayer(c, layer) === isLinearAttnModule(module);
}

/** The LoRA target modules some layer of the model has (for the config's validation and the settings panel). */
export function modelLoraModules(c: ModelConfig): LoraModule[] {
  const all: LoraModule[] = [...LORA_MODULES, ...LINEAR_ATTN_MODULES];
  return all.filter((m) => {
    for (let l = 0; l < c.numLayers; l++) if (layerHasModule(c, l, m)) return true;
    return false;
  });
}

/** Each module some layer has, with Σ over those layers of (OUT + IN): its LoRA parameters are r times that
 * (the shapes LoraSet allocates, Gemma 4's per-layer ones included). */
export function loraModuleSizes(c: ModelConfig): { name: LoraModule; layers: number; outPlusIn: number }[] {
  const gemma4 = c.gemma4 ? gemma4Layers(c) : null;
  const out: { name: LoraModule; layers: number; outPlusIn: number }[] = [];
  for (const name of modelLoraModules(c)) {
    let layers = 0;
    let outPlusIn = 0;
    for (let l = 0; l < c.numLayers; l++) {
      if (!layerHasModule(c, l, name)) continue;
      if (gemma4 && !gemma4OwnsModule(gemma4[l], name as Gemma4Module)) continue;
      const [o, i] = gemma4 ? gemma4ModuleDims(c, gemma4[l], name as Gemma4Module) : moduleShape(c, name);
      layers++;
      outPlusIn += o + i;
    }
    if (layers > 0) out.push({ name, layers, outPlusIn });
  }
  return out;
}

/** Where a module exists, for a message about a model that lacks it. */
export function loraModuleHome(m: string): string {
  if (isLinearAttnModule(m)) return `${m} exists only in Qwen3.5's linear-attention layers`;
  if (m === 'q_proj' || m === 'k_proj' || m === 'v_proj' || m === 'o_proj') return `${m} exists only in (full-)attention layers`;
  return `${m} is an MLP projection`;
}

export interface LoraSpec {
  r: number;
  alpha: number;
  targetModules: LoraModule[];
  useRslora: boolean;
  /** PEFT's lora_dropout: probability of dropping LoRA's input in training forwards (default 0) */
  dropout?: number;
}

export interface LoraPair {
  /** full module path, e.g. model.layers.0.self_attn.q_proj */
  path: string;
  layer: number;
  module: LoraModule;
  inFeatures: number;
  outFeatures: number;
  A: Tensor; // (R, IN)
  B: Tensor; // (OUT, R)
  dA: Tensor;
  dB: Tensor;
}

export function modulePath(layer: number, module: LoraModule): string {
  const group = ['gate_proj', 'up_proj', 'down_proj'].includes(module) ? 'mlp' : isLinearAttnModule(module) ? 'linear_attn' : 'self_attn';
  return `model.layers.${layer}.${group}.${module}`;
}

/** (OUT, IN) of a module's base weight. */
export function moduleShape(c: ModelConfig, module: LoraModule): [number, number] {
  if (isLinearAttnModule(module)) return linearAttnModuleDims(c, module);
  const C = c.hiddenSize;
  const q = c.numHeads * c.headDim;
  const kv = c.numKvHeads * c.headDim;
  switch (module) {
    case 'q_proj':
      return [c.attnOutputGate ? 2 * q : q, C]; // Qwen3.5: query and gate per head
    case 'k_proj':
    case 'v_proj':
      return [kv, C];
    case 'o_proj':
      return [C, q];
    case 'gate_proj':
    case 'up_proj':
      return [c.intermediateSize, C];
    case 'down_proj':
      return [C, c.intermediateSize];
  }
}

export function loraScale(spec: LoraSpec): number {
  return spec.useRslora ? spec.alpha / Math.sqrt(spec.r) : spec.alpha / spec.r;
}

export class LoraSet {
  readonly pairs = new Map<string, LoraPair>();
  readonly scale: number;
  /** seed of the dropout masks (set by initialize) */
  dropoutSeed = 0;

  constructor(
    private readonly gpu: GpuRuntime,
    readonly config: ModelConfig,
    readonly spec: LoraSpec,
  ) {
    if (!Number.isInteger(spec.r) || spec.r < 1) throw new Error(`LoRA r must be a positive integer, got ${spec.r}`);
    if (!(spec.alpha > 0)) throw new Error(`lora_alpha must be positive, got ${spec.alpha}`);
    if (spec.dropout !== undefined && !(spec.dropout >= 0 && spec.dropout < 1)) {
      throw new Error(`lora_dropout must be in [0, 1), got ${spec.dropout}`);
    }
    if (spec.targetModules.length === 0) throw new Error('LoRA target_modules is empty: name at least one of ' + LORA_MODULES.join(', '));
    const known: readonly string[] = config.linearAttention ? [...LORA_MODULES, ...LINEAR_ATTN_MODULES] : LORA_MODULES;
    for (const m of spec.targetModules) {
      if (!known.includes(m)) throw new Error(`unknown LoRA target module "${m}": use ${known.join(', ')}`);
    }
    this.scale = loraScale(spec);
    // Gemma 4: each layer's own shapes, and only the projections it owns (as PEFT wraps it: gemma4_lora.ts)
    const gemma4 = config.gemma4 ? gemma4Layers(config) : null;
    for (let l = 0; l < config.numLayers; l++) {
      for (const module of spec.targetModules) {
        if (!layerHasModule(config, l, module)) continue;
        // Gemma 4 configs have no linear-attention layers, so their target modules are the seven above
        if (gemma4 && !gemma4OwnsModule(gemma4[l], module as Gemma4Module)) continue;
        const [out, inF] = gemma4 ? gemma4ModuleDims(config, gemma4[l], module as Gemma4Module) : moduleShape(config, module);
        const path = modulePath(l, module);
        this.pairs.set(path, {
          path,
          layer: l,
          module,
          inFeatures: inF,
          outFeatures: out,
          A: gpu.zeros([spec.r, inF], `${path}.lora_A`),
          B: gpu.zeros([out, spec.r], `${path}.lora_B`),
          dA: gpu.zeros([spec.r, inF], `${path}.lora_A.grad`),
          dB: gpu.zeros([out, spec.r], `${path}.lora_B.grad`),
        });
      }
    }
  }

  get(layer: number, module: LoraModule): LoraPair | undefined {
    return this.pairs.get(modulePath(layer, module));
  }

  /** PEFT's init: A ~ kaiming_uniform(a = sqrt(5)) = U(-1/sqrt(IN), 1/sqrt(IN)), B = 0. */
  initialize(seed: number): void {
    const rng = new Rng(seed);
    this.dropoutSeed = (Math.imul(seed, 0x9e3779b1) ^ 0x5bd1e995) >>> 0;
    for (const p of this.pairs.values()) {
      const bound = 1 / Math.sqrt(p.inFeatures);
      const a = new Float32Array(p.A.size);
      for (let i = 0; i < a.length; i++) a[i] = (rng.uniform() * 2 - 1) * bound;
      this.gpu.write(p.A, a);
      this.gpu.fillZero(p.B);
    }
  }

  zeroGrads(): void {
    for (const p of this.pairs.values()) {
      this.gpu.fillZero(p.dA);
      this.gpu.fillZero(p.dB);
    }
  }

  /** Parameters and their gradients in a fixed order (A then B per module, modules in layer order). */
  parameters(): { param: Tensor; grad: Tensor; name: string }[] {
    const out: { param: Tensor; grad: Tensor; name: string }[] = [];
    for (const p of this.pairs.values()) {
      out.push({ param: p.A, grad: p.dA, name: `${p.path}.lora_A.weight` });
      out.push({ param: p.B, grad: p.dB, name: `${p.path}.lora_B.weight` });
    }
    return out;
  }

  release(): void {
    for (const p of this.pairs.values()) this.gpu.release(p.A, p.B, p.dA, p.dB);
    this.pairs.clear();
  }
}
