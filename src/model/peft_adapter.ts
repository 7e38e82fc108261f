// LoRA adapters in PEFT's format: adapter_model.safetensors (metadata {"format": "pt"}) with keys
// base_model.model.<module path>.lora_A.weight (R, IN) / .lora_B.weight (OUT, R), and adapter_config.json.
// llama2.c models use interleaved RoPE; Hugging Face's converter permutes q/k rows to rotate-half, so the
// exported q_proj/k_proj lora_B rows are permuted the same way (and un-permuted on import): the adapter
// then fits the converted Hugging Face model.

import { LINEAR_ATTN_MODULES } from './weights_qwen35';
import type { GpuRuntime } from '../gpu/runtime';
import type { ModelConfig } from './config';
import { layerHasModule, LORA_MODULES, LoraSet, modulePath, moduleShape, type LoraModule, type LoraSpec } from './lora';
import { permuteForHalfRope, unpermuteFromHalfRope } from './llama2c';
import { readSafetensors, writeSafetensors } from './safetensors';

export const ADAPTER_WEIGHTS = 'adapter_model.safetensors';
export const ADAPTER_CONFIG = 'adapter_config.json';

export interface PeftAdapterConfig {
  peft_type: 'LORA';
  task_type: 'CAUSAL_LM';
  r: number;
  lora_alpha: number;
  lora_dropout: number;
  target_modules: string[];
  use_rslora: boolean;
  bias: 'none';
  fan_in_fan_out: false;
  inference_mode: true;
  base_model_name_or_path: string;
  [key: string]: unknown;
}

export interface PeftAdapterFiles {
  weights: Uint8Array;
  config: string;
}

/** q/k rows need the rotate-half permutation when the model computes RoPE on interleaved pairs. */
function permutedHeads(config: ModelConfig, module: LoraModule): number | null {
  if (config.ropeConvention !== 'interleaved') return null;
  if (module === 'q_proj') return config.numHeads;
  if (module === 'k_proj') return config.numKvHeads;
  return null;
}

/** PEFT's key prefix of a module path: Hugging Face's module names, which put a Gemma 3 multimodal
 * checkpoint's language model under model.language_model (transformers >= 4.52). */
function peftPrefix(config: ModelConfig, path: string): string {
  const multimodal = config.architecture === 'Gemma3ForConditionalGeneration' || config.architecture === 'Qwen3_5ForConditionalGeneration';
  if (multimodal && path.startsWith('model.')) {
    return `base_model.model.model.language_model.${path.slice('model.'.length)}`;
  }
  return `base_model.model.${path}`;
}

export async function exportPeftAdapter(
  gpu: GpuRuntime,
  lora: LoraSet,
  baseModel: string,
  loraDropout = 0,
): Promise<PeftAdapterFiles> {
  const c = lora.config;
  const tensors = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const p of lora.pairs.values()) {
    const A = await gpu.read(p.A);
    let B = await gpu.read(p.B);
    const heads = permutedHeads(c, p.module);
    if (heads !== null) B = permuteForHalfRope(B, heads, c.headDim, lora.spec.r);
    tensors.set(`${peftPrefix(c, p.path)}.lora_A.weight`, { shape: [lora.spec.r, p.inFeatures], data: A });
    tensors.set(`${peftPrefix(c, p.path)}.lora_B.weight`, { shape: [p.outFeatures, lora.spec.r], data: B });
  }
  const config: PeftAdapterConfig = {
    peft_type: 'LORA',
    task_type: 'CAUSAL_LM',
    r: lora.spec.r,
    lora_alpha: lora.spec.alpha,
    lora_dropout: loraDropout,
    target_modules: [...lora.spec.targetModules],
    use_rslora: lora.spec.useRslora,
    bias: 'none',
    fan_in_fan_out: false,
    inference_mode: true,
    base_model_name_or_path: baseModel,
    modules_to_save: null,
    init_lora_weights: true,
  };
  return { weights: writeSafetensors(tensors, { format: 'pt' }), config: JSON.stringify(config, null, 2) + '\n' };
}

export interface ParsedAdapter {
  spec: LoraSpec;
  loraDropout: number;
  /** module path -> A (R, IN), B (OUT, R) in this engine's layout (un-permuted) */
  tensors: Map<string, { A: Float32Array; B: Float32Array }>;
}

/** Bounds on what an adapter file may say (somebody else's file): ranks beyond this are no LoRA this
 * engine trains, and an alpha beyond this scales the update past any useful (or finite) value. */
export const MAX_ADAPTER_RANK = 4096;
export const MAX_ADAPTER_ALPHA = 1e6;

/** The first non-finite value of a tensor, as an error naming it; nothing when all are finite. */
function requireFinite(data: Float32Array, what: string): void {
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i])) throw new Error(`${what} holds ${data[i]} at index ${i}: an adapter's weights must all be finite numbers`);
  }
}

/** Parses and checks an adapter against a model, before any GPU work: the config is an object with r and
 * lora_alpha in range and unique target modules, every shape fits and every weight is finite. */
export function parsePeftAdapter(files: PeftAdapterFiles, model: ModelConfig): ParsedAdapter {
  let cfg: Record<string, unknown>;
  try {
    cfg = JSON.parse(files.config) as Record<string, unknown>;
  } catch (e) {
    throw new Error(`${ADAPTER_CONFIG}: not valid JSON (${(e as Error).message})`);
  }
  if (cfg === null || typeof cfg !== 'object' || Array.isArray(cfg)) {
    throw new Error(`${ADAPTER_CONFIG}: must be a JSON object such as {"peft_type": "LORA", "r": 8, ...}, got ${cfg === null ? 'null' : Array.isArray(cfg) ? 'an array' : typeof cfg}`);
  }
  if (cfg.peft_type !== undefined && cfg.peft_type !== 'LORA') {
    throw new Error(`${ADAPTER_CONFIG}: peft_type is ${JSON.stringify(cfg.peft_type)}; only LORA adapters are supported`);
  }
  const r = cfg.r;
  if (typeof r !== 'number' || !Number.isInteger(r) || r < 1 || r > MAX_ADAPTER_RANK) throw new Error(`${ADAPTER_CONFIG}: field "r" must be a positive integer of at most ${MAX_ADAPTER_RANK} (got ${JSON.stringify(r)})`);
  const alpha = cfg.lora_alpha ?? r;
  if (typeof alpha !== 'number' || !(alpha > 0) || !(alpha <= MAX_ADAPTER_ALPHA)) {
    throw new Error(`${ADAPTER_CONFIG}: field "lora_alpha" must be a positive number of at most ${MAX_ADAPTER_ALPHA} (got ${JSON.stringify(alpha)})`);
  }
  if (cfg.lora_dropout !== undefined && cfg.lora_dropout !== null && (typeof cfg.lora_dropout !== 'number' || !(cfg.lora_dropout >= 0 && cfg.lora_dropout < 1))) {
    throw new Error(`${ADAPTER_CONFIG}: field "lora_dropout" must be a number in [0, 1) (got ${JSON.stringify(cfg.lora_dropout)})`);
  }
  if (cfg.use_rslora !== undefined && typeof cfg.use_rslora !== 'boolean') throw new Error(`${ADAPTER_CONFIG}: field "use_rslora" must be true or false`);
  let targets = cfg.target_modules;
  if (typeof targets === 'string') targets = [targets];
  if (!Array.isArray(targets) || targets.length === 0) throw new Error(`${ADAPTER_CONFIG}: field "target_modules" must list modules`);
  const dup = targets.find((t, i) => (targets as unknown[]).indexOf(t) !== i);
  if (dup !== undefined) throw new Error(`${ADAPTER_CONFIG}: target module "${String(dup)}" is listed twice in "target_modules"`);
  for (const t of targets) {
    const known: readonly string[] = [...LORA_MODULES, ...LINEAR_ATTN_MODULES];
    if (!known.includes(t as string)) {
      throw new Error(`${ADAPTER_CONFIG}: target module "${String(t)}" is not one of this model's ${known.join(', ')}`);
    }
  }
  if (cfg.bias !== undefined && cfg.bias !== 'none') throw new Error(`${ADAPTER_CONFIG}: bias "${String(cfg.bias)}" is not supported (only "none")`);
  if (cfg.fan_in_fan_out === true) throw new Error(`${ADAPTER_CONFIG}: fan_in_fan_out true is not supported`);
  const spec: LoraSpec = { r, alpha, targetModules: targets as LoraModule[], useRslora: cfg.use_rslora === true };
  const { tensors: raw } = readSafetensors(files.weights, ADAPTER_WEIGHTS);
  const tensors = new Map<string, { A: Float32Array; B: Float32Array }>();
  const seen = new Set<string>();
  for (let l = 0; l < model.numLayers; l++) {
    for (const module of spec.targetModules) {
      if (!layerHasModule(model, l, module)) continue; // Qwen3.5: q/k/v/o on full layers, in_proj_* / out_proj on linear ones
      const path = modulePath(l, module);
      const [out, inF] = moduleShape(model, module);
      const get = (kind: 'lora_A' | 'lora_B', shape: number[]) => {
        const plain = `base_model.model.${path}.${kind}.weight`;
        const key = raw.has(plain) ? plain : `${peftPrefix(model, path)}.${kind}.weight`;
        const t = raw.get(key);
        if (!t) throw new Error(`${ADAPTER_WEIGHTS}: missing tensor ${key} (target module ${module}, layer ${l})`);
        if (t.shape.length !== 2 || t.shape[0] !== shape[0] || t.shape[1] !== shape[1]) {
          throw new Error(`${ADAPTER_WEIGHTS}: tensor ${key} has shape [${t.shape.join(', ')}], the model needs [${shape.join(', ')}] (r=${r})`);
        }
        seen.add(key);
        requireFinite(t.data, `${ADAPTER_WEIGHTS}: tensor ${key}`);
        return t.data;
      };
      const A = get('lora_A', [r, inF]);
      let B = get('lora_B', [out, r]);
      const heads = permutedHeads(model, module);
      if (heads !== null) B = unpermuteFromHalfRope(B, heads, model.headDim, r);
      tensors.set(path, { A, B });
    }
  }
  for (const key of raw.keys()) {
    if (!seen.has(key)) throw new Error(`${ADAPTER_WEIGHTS}: unexpected tensor ${key} (not a target module of this model with r=${r})`);
  }
  const dropout = typeof cfg.lora_dropout === 'number' ? cfg.lora_dropout : 0;
  return { spec, loraDropout: dropout, tensors };
}

/** Writes a parsed adapter's weights into a LoRA set of the same spec. */
export function loadAdapterInto(gpu: GpuRuntime, lora: LoraSet, adapter: ParsedAdapter): void {
  const a = adapter.spec;
  const b = lora.spec;
  if (a.r !== b.r || a.useRslora !== b.useRslora || a.alpha !== b.alpha || a.targetModules.join() !== b.targetModules.join()) {
    throw new Error(
      `the adapter (r=${a.r}, lora_alpha=${a.alpha}, target_modules=${a.targetModules.join(',')}) does not match the run's LoRA ` +
        `settings (r=${b.r}, lora_alpha=${b.alpha}, target_modules=${b.targetModules.join(',')})`,
    );
  }
  for (const [path, t] of adapter.tensors) {
    const pair = lora.pairs.get(path);
    if (!pair) throw new Error(`adapter module ${path} is not in this run's LoRA set`);
    gpu.write(pair.A, t.A);
    gpu.write(pair.B, t.B);
  }
}

/** A new LoRA set holding the adapter. */
export function createLoraFromAdapter(gpu: GpuRuntime, model: ModelConfig, adapter: ParsedAdapter): LoraSet {
  const lora = new LoraSet(gpu, model, adapter.spec);
  loadAdapterInto(gpu, lora, adapter);
  return lora;
}
