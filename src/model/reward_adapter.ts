// Reward adapters in PEFT's sequence-classification form: the LoRA of peft_adapter.ts plus the scalar head
// (score_head.ts), as PEFT saves a LoraConfig(task_type="SEQ_CLS", modules_to_save=["score"]) on a
// *ForSequenceClassification model with num_labels 1: adapter_config.json says task_type "SEQ_CLS" and
// modules_to_save ["score"]; adapter_model.safetensors holds the LoRA tensors and base_model.model.score.weight
// (1, hidden). Loading checks both files as peft_adapter.ts does, and the head's shape and values.

import type { GpuRuntime } from '../gpu/runtime';
import type { ModelConfig } from './config';
import type { LoraSet } from './lora';
import { ADAPTER_CONFIG, ADAPTER_WEIGHTS, exportPeftAdapter, parsePeftAdapter, type ParsedAdapter, type PeftAdapterFiles } from './peft_adapter';
import { readSafetensors, writeSafetensors } from './safetensors';
import { SCORE_WEIGHT_KEY } from './score_head';

/** The same head as PEFT holds it before saving (accepted on import too). */
const SCORE_WEIGHT_KEY_UNSAVED = 'base_model.model.score.modules_to_save.default.weight';

export async function exportRewardAdapter(gpu: GpuRuntime, lora: LoraSet, head: Float32Array, baseModel: string, loraDropout = 0): Promise<PeftAdapterFiles> {
  const C = lora.config.hiddenSize;
  if (head.length !== C) throw new Error(`reward head has ${head.length} weights, the model's hidden size is ${C}`);
  const files = await exportPeftAdapter(gpu, lora, baseModel, loraDropout);
  const { tensors } = readSafetensors(files.weights, ADAPTER_WEIGHTS);
  const out = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const [k, t] of tensors) out.set(k, { shape: [...t.shape], data: t.data });
  out.set(SCORE_WEIGHT_KEY, { shape: [1, C], data: head });
  const config = { ...(JSON.parse(files.config) as Record<string, unknown>), task_type: 'SEQ_CLS', modules_to_save: ['score'] };
  return { weights: writeSafetensors(out, { format: 'pt' }), config: JSON.stringify(config, null, 2) + '\n' };
}

export interface ParsedRewardAdapter {
  adapter: ParsedAdapter;
  /** the score layer's weight (hidden) */
  head: Float32Array;
}

/** Parses a reward adapter against a model: a SEQ_CLS config naming "score" in modules_to_save, a finite
 * (1, hidden) head, and a LoRA that parsePeftAdapter accepts. `source` names the adapter in messages. */
export function parseRewardAdapter(files: PeftAdapterFiles, model: ModelConfig, source = 'the reward adapter'): ParsedRewardAdapter {
  let cfg: Record<string, unknown>;
  try {
    cfg = JSON.parse(files.config) as Record<string, unknown>;
  } catch (e) {
    throw new Error(`${source}: ${ADAPTER_CONFIG} is not valid JSON (${(e as Error).message})`);
  }
  if (cfg === null || typeof cfg !== 'object' || Array.isArray(cfg)) throw new Error(`${source}: ${ADAPTER_CONFIG} must be a JSON object`);
  if (cfg.task_type !== 'SEQ_CLS') {
    throw new Error(`${source}: ${ADAPTER_CONFIG} has task_type ${JSON.stringify(cfg.task_type)}; a reward adapter is a sequence-classification adapter (task_type "SEQ_CLS", trained with algorithm "reward_model")`);
  }
  const mts = cfg.modules_to_save;
  if (!Array.isArray(mts) || !mts.includes('score')) {
    throw new Error(`${source}: ${ADAPTER_CONFIG} must list "score" in modules_to_save (the reward head), got ${JSON.stringify(mts)}`);
  }
  const { tensors } = readSafetensors(files.weights, `${source}: ${ADAPTER_WEIGHTS}`);
  const key = tensors.has(SCORE_WEIGHT_KEY) ? SCORE_WEIGHT_KEY : SCORE_WEIGHT_KEY_UNSAVED;
  const t = tensors.get(key);
  const C = model.hiddenSize;
  if (!t) throw new Error(`${source}: ${ADAPTER_WEIGHTS} has no ${SCORE_WEIGHT_KEY} (the reward head)`);
  if (t.shape.length !== 2 || t.shape[0] !== 1 || t.shape[1] !== C) {
    throw new Error(`${source}: ${ADAPTER_WEIGHTS} tensor ${key} has shape [${t.shape.join(', ')}]; a reward head for this model is [1, ${C}] (num_labels 1)`);
  }
  const bad = t.data.findIndex((x) => !Number.isFinite(x));
  if (bad >= 0) throw new Error(`${source}: ${ADAPTER_WEIGHTS} tensor ${key} holds ${t.data[bad]} at index ${bad}; the head's weights must be finite`);
  const lora = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const [k, v] of tensors) if (k !== key) lora.set(k, { shape: [...v.shape], data: v.data });
  const rest = { ...cfg, task_type: 'CAUSAL_LM', modules_to_save: null };
  let adapter: ParsedAdapter;
  try {
    adapter = parsePeftAdapter({ weights: writeSafetensors(lora, { format: 'pt' }), config: JSON.stringify(rest) }, model);
  } catch (e) {
    throw new Error(`${source}: ${(e as Error).message}`);
  }
  return { adapter, head: Float32Array.from(t.data) };
}
