// What the supervised trainers share (SftRunTrainer, PreferenceTrainer, RewardModelTrainer): the step counters a
// run reads, the pause after max_consecutive_skips skipped updates, a run length that may change on resume, and
// the checkpoint progress of their seeded epoch order over the training rows (epoch_order.ts). GrpoTrainer keeps
// its own: it also counts generated tokens and checkpoints its prompt selection.

import type { AdamW } from './optimizer';
import type { GrpoConfig } from './config';
import type { TrainerProgress } from './trainer';
import { EpochOrder } from './epoch_order';

export abstract class EpochTrainer<E> {
  step = 0;
  numTokens = 0;
  skippedUpdates = 0;
  consecutiveSkips = 0;
  abstract readonly optimizer: AdamW;
  private readonly epochs: EpochOrder;

  /** faultHint ends the message of a paused run: what to lower */
  protected constructor(private cfg: GrpoConfig, protected readonly examples: readonly E[], private readonly faultHint: string) {
    this.epochs = EpochOrder.range(examples.length, cfg.seed);
  }

  get config(): GrpoConfig {
    return this.cfg;
  }

  /** max_consecutive_skips steps in a row could not update: the run should pause. */
  get faulted(): string | null {
    const k = this.consecutiveSkips;
    if (k < this.cfg.max_consecutive_skips) return null;
    return `${k} steps in a row had a non-finite loss or gradient norm (the last at step ${this.step}), so their updates were skipped; ${this.faultHint}`;
  }

  /** A resumed run may be lengthened or shortened and evaluated at another interval; nothing else changes. */
  setRunLength(maxSteps: number, evalInterval: number): void {
    this.cfg = { ...this.cfg, max_steps: maxSteps, eval_interval: evalInterval };
  }

  progress(): TrainerProgress {
    return { step: this.step, numTokens: this.numTokens, skippedUpdates: this.skippedUpdates, epoch: this.epochs.epoch, cursor: this.epochs.cursor, optimizerStep: this.optimizer.step };
  }

  restoreProgress(p: TrainerProgress): void {
    this.step = p.step;
    this.numTokens = p.numTokens;
    this.skippedUpdates = p.skippedUpdates;
    this.optimizer.step = p.optimizerStep;
    this.epochs.restore(p.epoch, p.cursor);
  }

  /** The next n training rows, epoch by epoch in the seeded order. */
  protected next(n: number): E[] {
    const out: E[] = [];
    while (out.length < n) out.push(this.examples[this.epochs.next()]);
    return out;
  }

  /** Counts a step's update, skipped or not. */
  protected countUpdate(skipped: boolean): void {
    this.skippedUpdates += skipped ? 1 : 0;
    this.consecutiveSkips = skipped ? this.consecutiveSkips + 1 : 0;
  }
}
