// A trained reward model as a GRPO / online-DPO reward (reward_funcs entry "reward_model"): each member of
// the entry's ensemble is a reward adapter (its LoRA and scalar head: src/model/reward_adapter.ts), bound to
// the policy's own GpuTransformer for one inference forward over prompt + completion. The base weights are
// the model's, shared: a member costs its LoRA set and C head weights, never a second copy of the model.
// Members' scores are reduced by mean, min or mean - lambda x std (loss.ts reduceEnsemble).

import type { GpuRuntime } from '../../gpu/runtime';
import type { GpuTransformer } from '../../model/transformer';
import type { LoraSet } from '../../model/lora';
import { createLoraFromAdapter } from '../../model/peft_adapter';
import type { ParsedRewardAdapter } from '../../model/reward_adapter';
import type { SequenceRow } from '../../model/logprobs';
import type { RewardFuncConfig } from '../config';
import { REWARD_MODEL_NAME, REWARD_MODEL_REWARD } from '../rewards/registry';
import { withDefaults } from '../rewards/params';
import type { RewardItem } from '../rewards_scorer';
import { reduceEnsemble, type EnsembleReduce } from './loss';
import { sequenceRewards } from './trainer';

export interface RewardModelMember {
  /** where the adapter came from (a folder, a saved run), for messages */
  source: string;
  lora: LoraSet;
  head: Float32Array;
}

export class RewardModelScorer {
  constructor(
    private readonly model: GpuTransformer,
    readonly members: RewardModelMember[],
    readonly reduce: EnsembleReduce,
    readonly stdCoef: number,
  ) {
    if (members.length === 0) throw new Error('a reward_model reward needs at least one reward adapter');
  }

  /** Every member's reward of each row (members x rows). */
  async memberRewards(rows: SequenceRow[]): Promise<number[][]> {
    const out: number[][] = [];
    for (const m of this.members) out.push(await sequenceRewards(this.model, rows, m.lora, m.head));
    return out;
  }

  async score(rows: SequenceRow[]): Promise<number[]> {
    if (rows.length === 0) return [];
    return reduceEnsemble(await this.memberRewards(rows), this.reduce, this.stdCoef);
  }

  /** The reward function of rewards_scorer.ts: items need their token ids (RewardItem.promptIds / completionIds). */
  async scoreItems(items: RewardItem[]): Promise<(number | null)[]> {
    const rows = items.map((it, i) => {
      if (!it.promptIds || !it.completionIds) throw new Error(`reward_model: item ${i} has no token ids (this caller cannot score with a reward model)`);
      return { prompt: [...it.promptIds], completion: [...it.completionIds] };
    });
    return this.score(rows);
  }

  release(): void {
    for (const m of this.members) m.lora.release();
  }
}

/** The scorer of one reward_model entry from its parsed adapters (in the order its `adapters` names them). */
export function createRewardModelScorer(gpu: GpuRuntime, model: GpuTransformer, entry: RewardFuncConfig, adapters: { source: string; parsed: ParsedRewardAdapter }[]): RewardModelScorer {
  if (entry.name !== REWARD_MODEL_NAME) throw new Error(`not a reward_model entry: ${entry.name}`);
  const p = withDefaults(entry.name, REWARD_MODEL_REWARD.params, entry.params);
  const members: RewardModelMember[] = [];
  try {
    for (const a of adapters) members.push({ source: a.source, lora: createLoraFromAdapter(gpu, model.config, a.parsed.adapter), head: a.parsed.head });
  } catch (e) {
    for (const m of members) m.lora.release();
    throw e;
  }
  return new RewardModelScorer(model, members, p.reduce as EnsembleReduce, Number(p.std_coef));
}
