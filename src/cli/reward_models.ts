// The command line's reward models: a config's reward_model entries name adapter folders (paths, relative to the
// working directory) in params.adapters. They are read and checked against the model before anything is
// uploaded (so the memory plan counts their LoRA sets), then bound to the uploaded model: the scorers run on the
// policy's own base weights.
import type { GpuRuntime } from '../gpu/runtime';
import type { ModelConfig } from '../model/config';
import type { LoraSpec } from '../model/lora';
import type { GpuTransformer } from '../model/transformer';
import { parseRewardAdapter, type ParsedRewardAdapter } from '../model/reward_adapter';
import type { GrpoConfig } from '../grpo/config';
import { REWARD_MODEL_NAME, rewardModelAdapters } from '../grpo/rewards/registry';
import type { RewardModelScorers } from '../grpo/rewards_scorer';
import { createRewardModelScorer, type RewardModelScorer } from '../grpo/reward_model/scorer';
import { readAdapterFiles } from './adapter_dir';

export class CliRewardModels {
  private readonly scorers = new Map<number, RewardModelScorer>();

  private constructor(
    private readonly config: GrpoConfig,
    private readonly adapters: Map<number, { source: string; parsed: ParsedRewardAdapter }[]>,
  ) {}

  static async read(config: GrpoConfig, model: ModelConfig): Promise<CliRewardModels> {
    const adapters = new Map<number, { source: string; parsed: ParsedRewardAdapter }[]>();
    for (const [i, f] of config.reward_funcs.entries()) {
      if (f.name !== REWARD_MODEL_NAME) continue;
      const dirs = rewardModelAdapters(f.params);
      if (dirs.length === 0) throw new Error(`reward_funcs[${i}] (reward_model): params.adapters names no adapter folder`);
      const list = [];
      for (const dir of dirs) list.push({ source: dir, parsed: parseRewardAdapter(await readAdapterFiles(dir), model, dir) });
      adapters.set(i, list);
    }
    return new CliRewardModels(config, adapters);
  }

  get count(): number {
    return [...this.adapters.values()].reduce((a, l) => a + l.length, 0);
  }

  /** For the memory plan: each entry's adapters' LoRA specs. */
  planSpecs(): Map<number, LoraSpec[]> {
    return new Map([...this.adapters].map(([i, l]) => [i, l.map((a) => a.parsed.adapter.spec)]));
  }

  /** The rewards scorer's hooks; they score once bind() has run. */
  hooks(): RewardModelScorers {
    return new Map([...this.adapters.keys()].map((i) => [i, (items) => {
      const s = this.scorers.get(i);
      if (!s) throw new Error(`reward_funcs[${i}] (reward_model): the reward adapters are not bound to the model yet`);
      return s.scoreItems(items);
    }]));
  }

  bind(gpu: GpuRuntime, model: GpuTransformer): void {
    for (const [i, list] of this.adapters) this.scorers.set(i, createRewardModelScorer(gpu, model, this.config.reward_funcs[i], list));
  }

  release(): void {
    for (const s of this.scorers.values()) s.release();
    this.scorers.clear();
  }
}
