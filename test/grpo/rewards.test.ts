import { describe, expect, it } from 'vitest';
import {
  BUILTIN_REWARD_NAMES,
  REWARD_FUNCS,
  combineRewards,
  combineRewardsDetailed,
  extractBoxed,
  findNumbers,
  levenshtein,
  normalizeText,
  withDefaults,
} from '../../src/grpo/rewards';

const { exact_match, numeric_match, contains, format, length_penalty, soft_overlong, partial_credit } = REWARD_FUNCS;

describe('text helpers', () => {
  it('reads numbers as people write them', () => {
    expect(findNumbers('1,234 apples and -5 pears')).toEqual([1234, -5]);
    expect(findNumbers('$1,000,000.50')).toEqual([1000000.5]);
    expect(findNumbers('pages 5-10')).toEqual([5, 10]);
    expect(findNumbers('−3 (Unicode minus) and .5 and 3/4')).toEqual([-3, 0.5, 0.75]);
    expect(findNumbers('\\frac{3}{4} and \\dfrac{-1}{2}')).toEqual([0.75, -0.5]);
    expect(findNumbers('1e-3 or 2.5E2')).toEqual([0.001, 250]);
    expect(findNumbers('v1.5 and x2 are names, not numbers')).toEqual([]);
    expect(findNumbers('1,2,3')).toEqual([1, 2, 3]);
    expect(findNumbers('12,34')).toEqual([12, 34]);
  });

  it('finds the last \\boxed{} with nested braces', () => {
    expect(extractBoxed('first \\boxed{1} then \\boxed{\\frac{1}{2}}')).toBe('\\frac{1}{2}');
    expect(extractBoxed('\\boxed{unclosed')).toBeNull();
    expect(extractBoxed('no box')).toBeNull();
  });

  it('normalises and measures edit distance', () => {
    expect(normalizeText('  The   Answer\n is  Paris. ')).toBe('the answer is paris');
    expect(normalizeText('Paris!', { caseInsensitive: false })).toBe('Paris');
    expect(levenshtein('kitten', 'sitting')).toBe(3);
    expect(levenshtein('', 'abc')).toBe(3);
    expect(levenshtein('same', 'same')).toBe(0);
  });
});

describe('exact_match', () => {
  it('normalises whitespace, case and trailing punctuation', () => {
    expect(exact_match.fn('  Paris. ', 'paris', '', {})).toBe(1);
    expect(exact_match.fn('Paris\n\n', 'Paris', '', {})).toBe(1);
    expect(exact_match.fn('New   York', 'new york', '', {})).toBe(1);
    expect(exact_match.fn('Lyon', 'Paris', '', {})).toBe(0);
  });

  it('case_sensitive and strip_punctuation options', () => {
    expect(exact_match.fn('paris', 'Paris', '', { case_sensitive: true })).toBe(0);
    expect(exact_match.fn('Paris', 'Paris', '', { case_sensitive: true })).toBe(1);
    expect(exact_match.fn('42.', '42', '', { strip_punctuation: false })).toBe(0);
    expect(exact_match.fn('42.', '42', '', {})).toBe(1);
  });

  it('compares the final answer when there is one (extract auto), else the whole text', () => {
    expect(exact_match.fn('<think>it is big</think><answer> Paris </answer>', 'Paris', '', {})).toBe(1);
    expect(exact_match.fn('so \\boxed{Paris}', 'Paris', '', {})).toBe(1);
    expect(exact_match.fn('so \\boxed{Paris}', 'Paris', '', { extract: 'none' })).toBe(0);
    expect(exact_match.fn('72', 'Natalia sold 48 + 24 = 72 clips.\n#### 72', '', {})).toBe(1);
  });

  it('is not applicable (null) when the reference is empty', () => {
    expect(exact_match.fn('anything', '  ', '', {})).toBeNull();
  });

  it('rejects unknown or mistyped parameters', () => {
    expect(() => exact_match.fn('a', 'a', '', { casesensitive: true })).toThrow(/unknown parameter "casesensitive" \(did you mean case_sensitive\?\)/);
    expect(() => exact_match.fn('a', 'a', '', { extract: 'last' })).toThrow(/extract must be one of "auto", "none"/);
  });
});

describe('numeric_match', () => {
  it('reads \\boxed{}, then <answer>, then the last number in the text', () => {
    expect(numeric_match.fn('I think 5, but finally \\boxed{7}', '7', '', {})).toBe(1);
    expect(numeric_match.fn('I think 5, but finally \\boxed{7} and 9', '9', '', {})).toBe(0);
    expect(numeric_match.fn('<think>3 + 4 = 7, maybe 8</think><answer>7</answer> ok 8', '7', '', {})).toBe(1);
    expect(numeric_match.fn('3 + 4 = 7', '7', '', {})).toBe(1);
    expect(numeric_match.fn('3 + 4 = 7, not 8', '7', '', {})).toBe(0);
  });

  it('handles thousands commas, decimals, negatives and GSM8K references', () => {
    expect(numeric_match.fn('The total is 1,234,567.', '1234567', '', {})).toBe(1);
    expect(numeric_match.fn('\\boxed{1,234}', '1234', '', {})).toBe(1);
    expect(numeric_match.fn('It is -12.5 degrees', '-12.5', '', {})).toBe(1);
    expect(numeric_match.fn('It is 12.5 degrees', '-12.5', '', {})).toBe(0);
    expect(numeric_match.fn('It is 0.5', '1/2', '', {})).toBe(1);
    expect(numeric_match.fn('So she has 18 dollars', 'Janet sells 16 - 3 - 4 = 9 eggs, 9 * 2 = 18\n#### 18', '', {})).toBe(1);
    expect(numeric_match.fn('So she has 9', 'Janet sells 16 - 3 - 4 = 9 eggs, 9 * 2 = 18\n#### 18', '', {})).toBe(0);
  });

  it('tolerance and relative_tolerance', () => {
    expect(numeric_match.fn('3.14', '3.14159', '', {})).toBe(0);
    expect(numeric_match.fn('3.14', '3.14159', '', { tolerance: 0.01 })).toBe(1);
    expect(numeric_match.fn('1010', '1000', '', { relative_tolerance: 0.02 })).toBe(1);
    expect(numeric_match.fn('1030', '1000', '', { relative_tolerance: 0.02 })).toBe(0);
    expect(numeric_match.fn('7.0000000001', '7', '', {})).toBe(1);
  });

  it('0 when the completion has no number, null when the reference has none', () => {
    expect(numeric_match.fn('I do not know', '42', '', {})).toBe(0);
    expect(numeric_match.fn('42', 'Paris', '', {})).toBeNull();
  });
});

describe('contains', () => {
  it('looks for the answer, or the given text, ignoring case by default', () => {
    expect(contains.fn('The capital is PARIS, of course', 'Paris', '', {})).toBe(1);
    expect(contains.fn('The capital is PARIS', 'Paris', '', { case_sensitive: true })).toBe(0);
    expect(contains.fn('The capital is Lyon', 'Paris', '', {})).toBe(0);
    expect(contains.fn('step by   step', 'x', '', { text: 'step by step' })).toBe(1);
    expect(contains.fn('anything', '', '', {})).toBeNull();
  });
});

describe('format', () => {
  it('matches the default <think>/<answer> format on the whole (trimmed) completion', () => {
    expect(format.fn('<think>\n2+2\n</think>\n<answer>4</answer>\n', '', '', {})).toBe(1);
    expect(format.fn('<think>2+2</think> <answer>4</answer> extra', '', '', {})).toBe(0);
    expect(format.fn('<answer>4</answer>', '', '', {})).toBe(0);
    expect(format.fn(' <think>a</think><answer>4</answer>', '', '', { trim: false })).toBe(0);
  });

  it('takes a custom pattern and flags', () => {
    expect(format.fn('ANSWER: 5', '', '', { pattern: '^answer: \\d+$', flags: 'i' })).toBe(1);
    expect(format.fn('ANSWER: 5', '', '', { pattern: '^answer: \\d+$' })).toBe(0);
  });
});

describe('length_penalty', () => {
  it('-|len - target| / target, floored, in characters or tokens', () => {
    expect(length_penalty.fn('x'.repeat(32), '', '', {})).toBe(0);
    expect(length_penalty.fn('x'.repeat(10), '', '', { target: 20 })).toBe(-0.5);
    expect(length_penalty.fn('x'.repeat(30), '', '', { target: 20 })).toBe(-0.5);
    expect(length_penalty.fn('x'.repeat(100), '', '', { target: 20 })).toBe(-1);
    expect(length_penalty.fn('x'.repeat(100), '', '', { target: 20, floor: -10 })).toBe(-4);
    // tokens win over characters when the trainer passes them
    expect(length_penalty.fn('x'.repeat(100), '', '', { target: 20 }, { completion_tokens: 20 })).toBe(0);
  });
});

describe('soft_overlong (DAPO)', () => {
  const p = { max_completion_length: 20, cache_length: 4 };
  it('0 up to max - cache, linear to -1 at max, -1 beyond (tokens)', () => {
    const at = (tokens: number) => soft_overlong.fn('', '', '', p, { completion_tokens: tokens });
    expect(at(10)).toBe(0);
    expect(at(16)).toBe(0);
    expect(at(17)).toBe(-0.25);
    expect(at(18)).toBe(-0.5);
    expect(at(20)).toBe(-1);
    expect(at(25)).toBe(-1);
  });

  it('counts characters without a token count, and takes the run length from info when the param is null', () => {
    expect(soft_overlong.fn('x'.repeat(18), '', '', p)).toBe(-0.5);
    expect(soft_overlong.fn('', '', '', { cache_length: 16 }, { completion_tokens: 56, max_completion_length: 64 })).toBe(-0.5);
    expect(() => soft_overlong.fn('abc', '', '', {})).toThrow(/soft_overlong needs max_completion_length/);
  });
});

describe('partial_credit', () => {
  it('1 - normalised edit distance', () => {
    expect(partial_credit.fn('Paris', 'paris', '', {})).toBe(1);
    expect(partial_credit.fn('kitten', 'sitting', '', {})).toBeCloseTo(1 - 3 / 7, 12);
    expect(partial_credit.fn('abc', 'xyz', '', {})).toBe(0);
    expect(partial_credit.fn('', 'abcd', '', {})).toBe(0);
    expect(partial_credit.fn('<answer>Pariss</answer>', 'Paris', '', {})).toBeCloseTo(1 - 1 / 6, 12);
    expect(partial_credit.fn('x', '', '', {})).toBeNull();
  });
});

describe('registry', () => {
  it('lists every built-in with documentation and documented parameters with valid defaults', () => {
    expect(BUILTIN_REWARD_NAMES.sort()).toEqual(['contains', 'exact_match', 'format', 'length_penalty', 'majority_vote', 'numeric_match', 'partial_credit', 'soft_overlong']);
    for (const name of BUILTIN_REWARD_NAMES) {
      const e = REWARD_FUNCS[name];
      expect(e.doc.length, name).toBeGreaterThan(60);
      for (const p of e.params) expect(p.doc.length, `${name}.${p.name}`).toBeGreaterThan(10);
      const defaults = Object.fromEntries(e.params.map((p) => [p.name, p.default]));
      expect(withDefaults(name, e.params, defaults)).toEqual(defaults);
    }
  });
});

describe('combineRewards', () => {
  it('weighted sum per completion', () => {
    expect(combineRewards([[1, 0, 1], [0.5, 0.5, 0]], [1, 2])).toEqual([2, 1, 1]);
  });

  it('skips nulls (not applicable) and gives 0 to a completion where every function returned null, counting it', () => {
    const perFunc = [
      [1, null, null, 0],
      [null, 0.5, null, NaN],
    ];
    const r = combineRewardsDetailed(perFunc, [1, -2]);
    expect(r.rewards).toEqual([1, -1, 0, 0]);
    expect(r.allNull).toEqual([2]);
    expect(combineRewards(perFunc, [1, -2])).toEqual([1, -1, 0, 0]);
  });

  it('checks that weights and scores line up', () => {
    expect(() => combineRewards([[1]], [1, 2])).toThrow(/1 reward functions but 2 weights/);
    expect(() => combineRewards([[1, 2], [1]], [1, 1])).toThrow(/function 1 scored 1 completions, function 0 scored 2/);
    expect(combineRewards([], [])).toEqual([]);
  });
});
