// PEFT LoRA adapters of Gemma 4 text (the layout of peft_adapter.ts: adapter_model.safetensors with
// base_model.model.<module path>.lora_A.weight (R, IN) / .lora_B.weight (OUT, R), and adapter_config.json). What
// differs from the uniform families: each layer's own shapes (global_head_dim on full layers, double-wide MLPs),
// and the modules a layer does not own are absent, as PEFT leaves them when it wraps a Gemma 4 model: shared
// layers (num_kv_shared_layers) have no k_proj / v_proj, k_eq_v full layers no v_proj. A gemma4 checkpoint
// (Gemma4ForConditionalGeneration) keeps its language model under model.language_model.

import type { ModelConfig } from './config';
import { gemma4Layers } from './gemma4_config';
import { gemma4CheckLoraModule, gemma4ModulePath, gemma4OwnsModule, GEMMA4_MODULES, gemma4ModuleDims, type Gemma4Module } from './gemma4_lora';
import { ADAPTER_CONFIG, ADAPTER_WEIGHTS, type PeftAdapterConfig, type PeftAdapterFiles } from './peft_adapter';
import { readSafetensors, writeSafetensors } from './safetensors';

export interface Gemma4LoraSpec {
  r: number;
  alpha: number;
  targetModules: Gemma4Module[];
  useRslora: boolean;
}

/** The LoRA scale PEFT applies: alpha / r, or alpha / sqrt(r) with rsLoRA. */
export function gemma4LoraScale(spec: Gemma4LoraSpec): number {
  return spec.useRslora ? spec.alpha / Math.sqrt(spec.r) : spec.alpha / spec.r;
}

function peftKey(c: ModelConfig, path: string, kind: 'lora_A' | 'lora_B'): string {
  const p = c.architecture === 'Gemma4ForConditionalGeneration' ? `model.language_model.${path.slice('model.'.length)}` : path;
  return `base_model.model.${p}.${kind}.weight`;
}

/** The module paths an adapter of these target modules covers (those the layers own). */
export function gemma4AdapterPaths(c: ModelConfig, targets: readonly Gemma4Module[]): string[] {
  const out: string[] = [];
  gemma4Layers(c).forEach((ly, l) => {
    for (const m of GEMMA4_MODULES) if (targets.includes(m) && gemma4OwnsModule(ly, m)) out.push(gemma4ModulePath(l, m));
  });
  return out;
}

/** adapter files from host LoRA factors: path -> A (R, IN), B (OUT, R); every covered path must be given. */
export function exportGemma4PeftAdapter(
  c: ModelConfig, spec: Gemma4LoraSpec, factors: Map<string, { A: Float32Array; B: Float32Array }>, baseModel: string, loraDropout = 0,
): PeftAdapterFiles {
  const layers = gemma4Layers(c);
  const tensors = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const path of gemma4AdapterPaths(c, spec.targetModules)) {
    const f = factors.get(path);
    if (!f) throw new Error(`Gemma 4 adapter export: no LoRA factors for ${path}`);
    gemma4CheckLoraModule(c, layers, path, spec.r, f.A.length, f.B.length);
    tensors.set(peftKey(c, path, 'lora_A'), { shape: [spec.r, f.A.length / spec.r], data: f.A });
    tensors.set(peftKey(c, path, 'lora_B'), { shape: [f.B.length / spec.r, spec.r], data: f.B });
  }
  for (const [path, f] of factors) {
    if (tensors.has(peftKey(c, path, 'lora_A'))) continue;
    gemma4CheckLoraModule(c, layers, path, spec.r, f.A.length, f.B.length); // a shared layer's k/v: refused with the reason
    throw new Error(`Gemma 4 adapter export: ${path} is not among the target modules (${spec.targetModules.join(', ')})`);
  }
  const config: PeftAdapterConfig = {
    peft_type: 'LORA', task_type: 'CAUSAL_LM', r: spec.r, lora_alpha: spec.alpha, lora_dropout: loraDropout,
    target_modules: [...spec.targetModules], use_rslora: spec.useRslora, bias: 'none', fan_in_fan_out: false, inference_mode: true,
    base_model_name_or_path: baseModel, modules_to_save: null, init_lora_weights: true,
  };
  return { weights: writeSafetensors(tensors, { format: 'pt' }), config: JSON.stringify(config, null, 2) + '\n' };
}

/** Parses and checks an adapter against a Gemma 4 model: rank, target modules and every shape must fit, and it may
 * hold no tensor for a module the model lacks. */
export function parseGemma4PeftAdapter(files: PeftAdapterFiles, c: ModelConfig): { spec: Gemma4LoraSpec; factors: Map<string, { A: Float32Array; B: Float32Array }> } {
  let cfg: Record<string, unknown>;
  try {
    cfg = JSON.parse(files.config) as Record<string, unknown>;
  } catch (e) {
    throw new Error(`${ADAPTER_CONFIG}: not valid JSON (${(e as Error).message})`);
  }
  if (cfg.peft_type !== undefined && cfg.peft_type !== 'LORA') throw new Error(`${ADAPTER_CONFIG}: peft_type is ${JSON.stringify(cfg.peft_type)}; only LORA adapters are supported`);
  const r = cfg.r;
  if (typeof r !== 'number' || !Number.isInteger(r) || r < 1) throw new Error(`${ADAPTER_CONFIG}: field "r" must be a positive integer`);
  const alpha = cfg.lora_alpha ?? r;
  if (typeof alpha !== 'number' || !(alpha > 0)) throw new Error(`${ADAPTER_CONFIG}: field "lora_alpha" must be a positive number`);
  let targets = cfg.target_modules;
  if (typeof targets === 'string') targets = [targets];
  if (!Array.isArray(targets) || targets.length === 0) throw new Error(`${ADAPTER_CONFIG}: field "target_modules" must list modules`);
  for (const t of targets) {
    if (!GEMMA4_MODULES.includes(t as Gemma4Module)) throw new Error(`${ADAPTER_CONFIG}: target module "${String(t)}" is not one of ${GEMMA4_MODULES.join(', ')}`);
  }
  if (cfg.bias !== undefined && cfg.bias !== 'none') throw new Error(`${ADAPTER_CONFIG}: bias "${String(cfg.bias)}" is not supported (only "none")`);
  const spec: Gemma4LoraSpec = { r, alpha, targetModules: targets as Gemma4Module[], useRslora: cfg.use_rslora === true };
  const { tensors: raw } = readSafetensors(files.weights, ADAPTER_WEIGHTS);
  const layers = gemma4Layers(c);
  const factors = new Map<string, { A: Float32Array; B: Float32Array }>();
  const seen = new Set<string>();
  for (const path of gemma4AdapterPaths(c, spec.targetModules)) {
    const m = path.slice(path.lastIndexOf('.') + 1) as Gemma4Module;
    const [OUT, IN] = gemma4ModuleDims(c, layers[Number(path.split('.')[2])], m);
    const get = (kind: 'lora_A' | 'lora_B', shape: number[]) => {
      const key = peftKey(c, path, kind);
      const t = raw.get(key);
      if (!t) throw new Error(`${ADAPTER_WEIGHTS}: missing tensor ${key} (target module ${m})`);
      if (t.shape.length !== 2 || t.shape[0] !== shape[0] || t.shape[1] !== shape[1]) {
        throw new Error(`${ADAPTER_WEIGHTS}: tensor ${key} has shape [${t.shape.join(', ')}], the model needs [${shape.join(', ')}] (r=${r})`);
      }
      seen.add(key);
      return t.data;
    };
    factors.set(path, { A: get('lora_A', [r, IN]), B: get('lora_B', [OUT, r]) });
  }
  for (const key of raw.keys()) {
    if (!seen.has(key)) throw new Error(`${ADAPTER_WEIGHTS}: unexpected tensor ${key} (not a module of this model with these target modules, r=${r})`);
  }
  return { spec, factors };
}
