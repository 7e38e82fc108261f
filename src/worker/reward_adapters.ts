// The page's reward models: a run's reward_model entries name saved runs of the runs library (by name or id)
// whose kept adapters are reward adapters (PEFT SEQ_CLS). The page sends their files before training
// (request rewardAdapters); here they are parsed against the loaded model, planned, and bound to the run's
// model: the scorers run on the policy's own base weights (src/grpo/reward_model/scorer.ts).
import { asGemma4 } from '../model/policy_model';
import type { GpuTransformer } from '../model/transformer';
import type { GrpoConfig } from '../grpo/config';
import type { LoraSpec } from '../model/lora';
import type { PeftAdapterFiles } from '../model/peft_adapter';
import { parseRewardAdapter, type ParsedRewardAdapter } from '../model/reward_adapter';
import type { ModelConfig } from '../model/config';
import { REWARD_MODEL_NAME, rewardModelAdapters } from '../grpo/rewards/registry';
import { createRewardScorer, type RewardScorer } from '../grpo/rewards_scorer';
import { createRewardModelScorer, type RewardModelScorer } from '../grpo/reward_model/scorer';
import type { ModelOnDevice } from './model_slot';

/** Each reward_model entry's adapters, parsed (by entry index). `files` holds them by the names the entries use. */
export function parseRunRewardAdapters(config: GrpoConfig, model: ModelConfig, files: ReadonlyMap<string, PeftAdapterFiles>): Map<number, { source: string; parsed: ParsedRewardAdapter }[]> {
  const out = new Map<number, { source: string; parsed: ParsedRewardAdapter }[]>();
  for (const [i, f] of config.reward_funcs.entries()) {
    if (f.name !== REWARD_MODEL_NAME) continue;
    const names = rewardModelAdapters(f.params);
    if (names.length === 0) throw new Error(`reward_funcs[${i}] (reward_model): params.adapters names no saved run`);
    out.set(i, names.map((name) => {
      const file = files.get(name);
      if (!file) throw new Error(`reward_funcs[${i}] (reward_model): no kept adapter of a saved run named "${name}" (train a reward_model run with "keep adapters" on, then name it here)`);
      return { source: `saved run "${name}"`, parsed: parseRewardAdapter(file, model, `saved run "${name}"`) };
    }));
  }
  return out;
}

export function rewardAdapterSpecs(parsed: ReadonlyMap<number, { parsed: ParsedRewardAdapter }[]>): Map<number, LoraSpec[]> {
  return new Map([...parsed].map(([i, l]) => [i, l.map((a) => a.parsed.adapter.spec)]));
}

/** The run's reward scorer with its reward models bound to `on`'s model; dispose() frees their LoRA sets too. */
export function runRewardScorer(on: ModelOnDevice, config: GrpoConfig, files: ReadonlyMap<string, PeftAdapterFiles>): RewardScorer {
  const parsed = parseRunRewardAdapters(config, on.loaded.config, files);
  const models: RewardModelScorer[] = [];
  try {
    const engine = asGemma4(on.model) ? null : (on.model as GpuTransformer);
    if (parsed.size && !engine) throw new Error(`${on.loaded.config.modelType}: reward_model rewards run on the engine's model; Gemma 4 does not score with reward adapters yet`);
    for (const [i, list] of parsed) models[i] = createRewardModelScorer(on.gpu, engine!, config.reward_funcs[i], list);
    const scorer = createRewardScorer(config.reward_funcs, { maxCompletionLength: config.max_completion_length, rewardModels: new Map([...parsed.keys()].map((i) => [i, (items) => models[i].scoreItems(items)])), stepSeparator: config.step_separator });
    return {
      names: scorer.names,
      weights: scorer.weights,
      score: (items) => scorer.score(items),
      dispose() {
        scorer.dispose();
        // after a lost device its buffers went with it: nothing is released into its pool
        if (!on.gpu.lost) for (const m of models) m?.release();
      },
    };
  } catch (e) {
    for (const m of models) m?.release();
    throw e;
  }
}
