// The worker's memoryPlan request: the exact plan (src/grpo/memory_plan.ts, a dry run of one step's host
// code, no GPU work) for the loaded model's shapes and the page's config, against this adapter's limits and
// the memory budget (memory_budget_bytes, else PAGE_DEFAULT_BUDGET). The run controller plans a new run
// the same way at Start (planForModel) and refuses one that does not fit before allocating anything.
import type { LoraSpec } from '../model/lora';
import type { ModelConfig } from '../model/config';
import { parameterCount } from '../model/weight_storage';
import { choosePlan, type MemoryPlan } from '../grpo/memory_plan';
import type { GrpoConfig } from '../grpo/config';
import type { GpuRuntime } from '../gpu/runtime';
import type { ModelSummary, PagePlan } from './protocol';
import type { GgmlTypeName } from '../ops/ggml_types';
import { weightGroups } from '../model/weight_groups';
import { dryLimitsOf } from '../gpu/dry_device';

/** The page's budget when memory_budget_bytes is null: 2 GiB, what a browser tab can usually hold. */
export const PAGE_DEFAULT_BUDGET = 2 * 2 ** 30;

/** A ModelConfig with the summary's shapes; tied or untied embeddings as the parameter count says. */
export function configFromSummary(m: ModelSummary): ModelConfig {
  const base: ModelConfig = {
    architecture: m.architecture, hiddenSize: m.hiddenSize, numLayers: m.layers, numHeads: m.numHeads, numKvHeads: m.numKvHeads,
    headDim: m.headDim, intermediateSize: m.intermediateSize, vocabSize: m.vocabSize, rmsNormEps: 1e-5, ropeTheta: 10000,
    ropeScaling: null, ropeConvention: 'half', maxPositionEmbeddings: m.maxPositions, tieWordEmbeddings: true,
    attentionBias: m.architecture === 'Qwen2ForCausalLM', bosTokenId: null, eosTokenIds: [],
  };
  return parameterCount(base) === m.params ? base : { ...base, tieWordEmbeddings: false };
}

/** The plan for the page's model summary; `loaded` (the worker's own config of that model, with its family's
 * fields: q/k norms, Gemma's norms, GeGLU, sliding layers) is used instead of the summary's shapes when given. */
export async function memoryPlanFor(
  gpu: GpuRuntime, m: ModelSummary, config: GrpoConfig, loaded?: ModelConfig, quant?: ReadonlyMap<string, GgmlTypeName>,
): Promise<PagePlan> {
  const model = loaded ?? configFromSummary(m);
  const q = loaded ? quant : undefined;
  const plan = await planForModel(gpu, model, m.dtype, config, q);
  return { ...plan, weightGroups: weightGroups(model, { basePrecision: config.base_precision, fileDtype: m.dtype, quant: q }) };
}

/** The plan of a step of `config` on a model of this config and file dtype, against memory_budget_bytes
 * (null: PAGE_DEFAULT_BUDGET) and this adapter's buffer limits. */
export async function planForModel(
  gpu: GpuRuntime, model: ModelConfig, fileDtype: string | undefined, config: GrpoConfig, quant?: ReadonlyMap<string, GgmlTypeName>,
  rewardModels?: ReadonlyMap<number, readonly LoraSpec[]>,
): Promise<MemoryPlan> {
  return choosePlan(model, config, {
    rewardModels,
    budgetBytes: config.memory_budget_bytes ?? PAGE_DEFAULT_BUDGET,
    // quant: a GGUF model's block types (its matrices stay quantised on the GPU under base_precision auto)
    storage: { basePrecision: config.base_precision, fileDtype, quant },
    adapter: { isSoftware: gpu.adapter.isSoftware },
    limits: dryLimitsOf(gpu),
  });
}
