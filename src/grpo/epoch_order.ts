// The seeded order a run draws its training rows in, epoch by epoch. Epoch k's order is a Fisher-Yates shuffle
// (Rng.int) seeded by seed ^ imul(k + 1, mix): a function of the seed and k alone, so a checkpoint keeps only the
// epoch number and the cursor. GrpoTrainer, SftRunTrainer, PreferenceTrainer and RewardModelTrainer draw with
// EPOCH_MIX; PromptSchedule's phases and sources cycle through passes of their own (other mix constants).
// test/grpo/epoch_order_pin.test.ts pins the orders.

import { Rng } from '../util/random';

/** The trainers' per-epoch mix constant. */
export const EPOCH_MIX = 0x85ebca6b;

/** The seed of epoch `epoch` (0-based) of a run seeded `seed`. */
export function epochSeed(seed: number, epoch: number, mix = EPOCH_MIX): number {
  return (seed ^ Math.imul(epoch + 1, mix)) >>> 0;
}

/** A copy of items in a seeded order: Fisher-Yates from the last position down, j = rng.int(i + 1). */
export function seededShuffle<T>(items: readonly T[], rng: Rng): T[] {
  const out = items.slice();
  for (let i = out.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

export interface EpochOrderOptions {
  /** the multiplier of the epoch number in its seed (EPOCH_MIX unless a caller keeps streams apart) */
  mix?: number;
  /** one fixed order for every epoch instead of a shuffle (a curriculum's) */
  fixed?: readonly number[] | null;
}

/** Draws items (indices) one at a time, each epoch in its own seeded order. */
export class EpochOrder {
  /** epochs started (the current one is epoch - 1) */
  epoch = 0;
  /** the position in the current epoch's order */
  cursor = 0;
  private order: readonly number[] = [];
  private readonly mix: number;
  private readonly fixed: readonly number[] | null;

  constructor(private readonly items: readonly number[], private readonly seed: number, opts: EpochOrderOptions = {}) {
    this.mix = opts.mix ?? EPOCH_MIX;
    this.fixed = opts.fixed ?? null;
  }

  /** The indices 0..n-1. */
  static range(n: number, seed: number, opts: EpochOrderOptions = {}): EpochOrder {
    return new EpochOrder(Array.from({ length: n }, (_, i) => i), seed, opts);
  }

  /** Epoch `epoch`'s (0-based) order. */
  orderOf(epoch: number): readonly number[] {
    return this.fixed ?? seededShuffle(this.items, new Rng(epochSeed(this.seed, epoch, this.mix)));
  }

  /** The next item; past the end of an epoch, the next epoch's order starts. */
  next(): number {
    if (this.cursor >= this.order.length) {
      this.order = this.orderOf(this.epoch);
      this.cursor = 0;
      this.epoch++;
    }
    return this.order[this.cursor++];
  }

  /** Goes back to a checkpoint's position: the current epoch's order is rebuilt from the seed. */
  restore(epoch: number, cursor: number): void {
    this.epoch = epoch;
    this.order = epoch > 0 ? this.orderOf(epoch - 1) : [];
    this.cursor = cursor;
  }
}
