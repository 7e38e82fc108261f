// EpochOrder (src/grpo/epoch_order.ts): the first indices of a few epochs for fixed seeds, pinned (the trainers'
// orders before they shared it, as test/grpo/epoch_order_pin.test.ts reads them through the trainers); a restore
// continues where a checkpoint left off; a fixed (curriculum) order repeats.
import { describe, expect, test } from 'vitest';
import { EpochOrder, epochSeed } from '../../src/grpo/epoch_order';

const draw = (o: EpochOrder, n: number) => Array.from({ length: n }, () => o.next());

describe('EpochOrder', () => {
  test('seed 1, 16 items: the first indices of epochs 0-2', () => {
    const o = EpochOrder.range(16, 1);
    const all = draw(o, 48);
    expect(all.slice(0, 6)).toEqual([5, 1, 9, 2, 14, 11]);
    expect(all.slice(16, 22)).toEqual([13, 2, 4, 3, 1, 6]);
    expect(all.slice(32, 40)).toEqual([9, 14, 3, 7, 1, 2, 13, 11]);
    // each epoch a permutation
    for (let e = 0; e < 3; e++) expect([...all.slice(16 * e, 16 * e + 16)].sort((a, b) => a - b)).toEqual(Array.from({ length: 16 }, (_, i) => i));
    expect(o.epoch).toBe(3);
  });

  test('other seeds and lengths', () => {
    expect(draw(EpochOrder.range(10, 42), 12)).toEqual(PIN_42);
    expect(draw(EpochOrder.range(7, 0xdeadbeef), 9)).toEqual(PIN_BEEF);
    expect(epochSeed(1, 0)).toBe((1 ^ 0x85ebca6b) >>> 0);
  });

  test('restore rebuilds the current epoch from the seed', () => {
    const a = EpochOrder.range(16, 5);
    draw(a, 21);
    const b = EpochOrder.range(16, 5);
    b.restore(a.epoch, a.cursor);
    expect(draw(b, 30)).toEqual(draw(a, 30));
  });

  test('a fixed order is every epoch\'s', () => {
    expect(draw(EpochOrder.range(3, 1, { fixed: [2, 0, 1] }), 7)).toEqual([2, 0, 1, 2, 0, 1, 2]);
  });
});

// from the trainers' formula before epoch_order.ts (seed ^ imul(epoch + 1, 0x85ebca6b), Fisher-Yates with Rng.int)
const PIN_42 = [2, 3, 1, 7, 0, 5, 4, 9, 6, 8, 9, 3];
const PIN_BEEF = [0, 6, 5, 2, 1, 4, 3, 4, 6];
