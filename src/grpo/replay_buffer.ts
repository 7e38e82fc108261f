// A replay buffer of high-variance groups, with the semantics of TRL's experimental GRPOWithReplayBufferTrainer
// (trl/experimental/grpo_with_replay_buffer, `replay_buffer_size`): after each generation, every group whose
// rewards vary (std > 0) is offered to the buffer with the score sum_j |A_j| * std (its advantages' sizes times its
// reward spread); the buffer keeps the replay_buffer_size best-scoring groups (a new group enters only by beating
// the worst). Then every group of the batch whose rewards are all equal is replaced by a group drawn from the
// buffer with probability proportional to its score (without replacement unless more are needed than it holds),
// which trains on with the advantages (and the generating policy's log-probs, when the run keeps them) it was
// stored with. As in TRL, the batch's own groups enter before the draw, so a group may be replayed in its own step.

import type { Completion, RolloutGroup } from './rollout';
import type { Rng } from '../util/random';

export interface Entry {
  score: number;
  group: RolloutGroup;
  /** the generating policy's per-token log-probs of each completion, when the run computed them */
  oldLogp: (Float32Array | undefined)[];
}

export class ReplayBuffer {
  private entries: Entry[] = [];
  constructor(readonly maxSize: number) {}

  get size(): number {
    return this.entries.length;
  }

  static score(g: RolloutGroup): number {
    return g.completions.reduce((a, x) => a + Math.abs(x.advantage), 0) * g.rewardStd;
  }

  /** Offers the groups with a reward spread (std > 0); keeps the maxSize best scores (ties: the one already in). */
  add(groups: readonly RolloutGroup[], oldLogp: Map<Completion, Float32Array> | null): void {
    for (const g of groups) {
      if (g.zeroStd || !(g.rewardStd > 0)) continue;
      const e: Entry = { score: ReplayBuffer.score(g), group: g, oldLogp: g.completions.map((x) => oldLogp?.get(x)) };
      if (this.entries.length < this.maxSize) {
        this.entries.push(e);
        continue;
      }
      let worst = 0;
      for (let i = 1; i < this.entries.length; i++) if (this.entries[i].score < this.entries[worst].score) worst = i;
      if (this.entries.length && e.score > this.entries[worst].score) this.entries[worst] = e;
    }
  }

  /**
   * Replaces each group of `groups` whose rewards are all equal by a draw from the buffer (in place); the replayed
   * completions' stored log-probs go into `oldLogp`. Returns how many were replaced (0 with an empty buffer).
   */
  replaceFlat(groups: RolloutGroup[], rng: Rng, oldLogp: Map<Completion, Float32Array> | null): number {
    const slots = groups.map((g, i) => (g.zeroStd ? i : -1)).filter((i) => i >= 0);
    if (!slots.length || !this.entries.length) return 0;
    const drawn = this.draw(slots.length, rng);
    slots.forEach((slot, k) => {
      const e = drawn[k];
      // copies: a group drawn twice, or kept in the buffer, is not changed by the step that trains on it
      const completions = e.group.completions.map((x) => ({ ...x }));
      completions.forEach((x, j) => {
        const lp = e.oldLogp[j];
        if (lp && oldLogp) oldLogp.set(x, lp);
      });
      groups[slot] = { ...e.group, completions };
    });
    return slots.length;
  }

  /** the entries, for a checkpoint (replayToJson) */
  snapshot(): readonly Entry[] {
    return this.entries;
  }

  restore(entries: Entry[]): void {
    this.entries = entries.slice(0, this.maxSize);
  }

  /** n entries, each with probability proportional to its score; without replacement when n <= size. */
  private draw(n: number, rng: Rng): Entry[] {
    const pool = [...this.entries];
    const out: Entry[] = [];
    const replacement = n > pool.length;
    for (let k = 0; k < n; k++) {
      const total = pool.reduce((a, e) => a + e.score, 0);
      let u = rng.uniform() * total;
      let i = 0;
      while (i < pool.length - 1 && u >= pool[i].score) u -= pool[i++].score;
      out.push(pool[i]);
      if (!replacement) pool.splice(i, 1);
    }
    return out;
  }
}

/** A buffer entry as a checkpoint keeps it: the prompt by its index among the training prompts. */
export interface ReplayEntryJson {
  score: number;
  prompt: number;
  rewardStd: number;
  completions: Pick<Completion, 'text' | 'ids' | 'trainIds' | 'truncated' | 'rewards' | 'reward' | 'advantage' | 'modelMask' | 'episode' | 'tokenAdvantages'>[];
  oldLogp: (number[] | null)[];
}

export function replayToJson(buf: ReplayBuffer, train: readonly PromptExampleRef[]): ReplayEntryJson[] {
  const index = new Map(train.map((p, i) => [p, i]));
  return buf.snapshot().map((e) => ({
    score: e.score,
    prompt: index.get(e.group.prompt) ?? -1,
    rewardStd: e.group.rewardStd,
    completions: e.group.completions.map(({ text, ids, trainIds, truncated, rewards, reward, advantage, modelMask, episode, tokenAdvantages }) => ({
      text, ids, trainIds, truncated, rewards, reward, advantage, ...(modelMask ? { modelMask } : {}), ...(episode ? { episode } : {}),
      ...(tokenAdvantages ? { tokenAdvantages } : {}),
    })),
    oldLogp: e.oldLogp.map((x) => (x ? Array.from(x) : null)),
  }));
}

type PromptExampleRef = RolloutGroup['prompt'];

/** A checkpoint's buffer read back, every field checked (a checkpoint is somebody else's file). */
export function replayFromJson(buf: ReplayBuffer, json: unknown, train: readonly PromptExampleRef[], vocabSize: number, source: string): void {
  const bad = (what: string): never => {
    throw new Error(`${source}: its replay buffer ${what}`);
  };
  if (!Array.isArray(json)) bad('is not a list');
  const list = json as unknown[];
  if (list.length > buf.maxSize) bad(`holds ${list.length} groups, more than replay_buffer_size ${buf.maxSize}`);
  const num = (x: unknown, what: string) => (typeof x === 'number' && Number.isFinite(x) ? x : bad(`has a non-finite ${what}`));
  const ids = (x: unknown, what: string) => {
    if (!Array.isArray(x) || x.length > 1 << 20 || !x.every((t) => Number.isInteger(t) && t >= 0 && t < vocabSize)) bad(`has ${what} that are not token ids below ${vocabSize}`);
    return x as number[];
  };
  const entries = list.map((e, i) => {
    if (!e || typeof e !== 'object') return bad(`entry ${i} is not an object`);
    const o = e as Record<string, unknown>;
    const p = o.prompt;
    if (!Number.isInteger(p) || (p as number) < 0 || (p as number) >= train.length) bad(`entry ${i} names prompt ${String(p)}, not one of the ${train.length} training prompts`);
    if (!Array.isArray(o.completions) || o.completions.length < 1 || o.completions.length > 4096) bad(`entry ${i} has no completions list`);
    const comps = (o.completions as Record<string, unknown>[]).map((c) => {
      if (!c || typeof c !== 'object') return bad(`entry ${i} has a completion that is not an object`);
      const rewards = Array.isArray(c.rewards) && c.rewards.length <= 64 ? c.rewards.map((r) => (r === null ? null : num(r, 'reward'))) : bad(`entry ${i} has no rewards list`);
      const trainIds = ids(c.trainIds, 'trainIds');
      const mask = c.modelMask === undefined ? undefined : Array.isArray(c.modelMask) && c.modelMask.length === trainIds.length && c.modelMask.every((m) => m === 0 || m === 1) ? (c.modelMask as number[]) : bad(`entry ${i} has a bad modelMask`);
      return {
        text: typeof c.text === 'string' ? c.text : bad(`entry ${i} has a completion without text`),
        ids: ids(c.ids, 'ids'),
        trainIds,
        truncated: c.truncated === true,
        rewards,
        reward: num(c.reward, 'reward'),
        advantage: num(c.advantage, 'advantage'),
        ...(mask ? { modelMask: mask } : {}),
        ...(c.tokenAdvantages === undefined ? {} : Array.isArray(c.tokenAdvantages) && c.tokenAdvantages.length === trainIds.length
          ? { tokenAdvantages: c.tokenAdvantages.map((x) => num(x, 'token advantage')) } : bad(`entry ${i} has token advantages of the wrong length`)),
        ...(c.episode && typeof c.episode === 'object' ? { episode: c.episode as Completion['episode'] } : {}),
      } as Completion;
    });
    const oldLogp = Array.isArray(o.oldLogp) && o.oldLogp.length === comps.length
      ? o.oldLogp.map((x, j) => (x === null ? undefined : Array.isArray(x) && x.length === comps[j].trainIds.length ? Float32Array.from(x.map((v) => num(v, 'log-prob'))) : bad(`entry ${i} has log-probs of the wrong length`)))
      : bad(`entry ${i} has no log-prob list`);
    const rewardStd = num(o.rewardStd, 'reward std');
    const group: RolloutGroup = { prompt: train[p as number], completions: comps, rewardStd, zeroStd: false, flat: false };
    return { score: num(o.score, 'score'), group, oldLogp };
  });
  buf.restore(entries);
}
