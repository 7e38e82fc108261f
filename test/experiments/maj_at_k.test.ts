// maj@k by hand: votes of the first k samples, ties split evenly, samples without an answer do not vote.
import { describe, expect, it } from 'vitest';
import { majAtK, majAtKTable, type MajSample } from '../../src/experiments/maj_at_k';

const s = (key: string | null, pass: boolean): MajSample => ({ key, pass });

describe('maj@k', () => {
  it('is 1 when the most common answer is right, 0 when it is wrong', () => {
    const p = [s('7', false), s('5', true), s('5', true), s('7', false), s('7', false)];
    expect(majAtK(p, 1)).toBe(0); // 7 alone
    expect(majAtK(p, 2)).toBe(0.5); // 7 and 5 tie one vote each: half the time right
    expect(majAtK(p, 3)).toBe(1); // 5 wins 2-1
    expect(majAtK(p, 4)).toBe(0.5); // 2-2 again
    expect(majAtK(p, 5)).toBe(0); // 7 wins 3-2
  });

  it('ignores samples without an answer; none at all scores 0', () => {
    expect(majAtK([s(null, true), s(null, false), s('a', true)], 3)).toBe(1);
    expect(majAtK([s(null, true), s(null, true)], 2)).toBe(0);
  });

  it('an answer is right as far as its samples passed', () => {
    // "a" got 2 votes, one of which passed (a pass that depends on more than the answer)
    expect(majAtK([s('a', true), s('a', false), s('b', true)], 3)).toBe(0.5);
  });

  it('averages over prompts, for k = 1..n', () => {
    const t = majAtKTable([
      [s('1', true), s('2', false), s('2', false)], // maj@1 1, maj@2 1/2, maj@3 0
      [s('x', false), s('y', true), s('y', true)], // maj@1 0, maj@2 1/2, maj@3 1
      [s(null, false), s('q', true), s('r', false)], // maj@1 0, maj@2 1, maj@3 1/2
    ]);
    expect(t).toEqual({ 'maj@1': 1 / 3, 'maj@2': 2 / 3, 'maj@3': 1.5 / 3 });
    expect(() => majAtKTable([[s('a', true)], []])).toThrow(/same number of samples/);
    expect(() => majAtK([s('a', true)], 2)).toThrow(/1 <= k <= 1/);
  });
});
