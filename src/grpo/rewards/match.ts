// Rewards that compare a completion with the row's reference answer: exact_match, numeric_match,
// contains, partial_credit. Each returns null when the reference gives nothing to compare with.

import { defineReward } from './params';
import { extractAnswerTag, extractBoxed, extractFinalAnswer, lastNumber, levenshtein, normalizeText } from './text';
import type { RewardParamSpec } from './types';

const EXTRACT: RewardParamSpec = {
  name: 'extract',
  type: 'choice',
  choices: ['auto', 'none'],
  default: 'auto',
  doc:
    '"auto": when the completion has a \\boxed{...} or <answer>...</answer>, compare only its content ' +
    '(and when the reference has "#### x" as in GSM8K, only x); "none": compare the whole texts.',
};

const CASE_SENSITIVE: RewardParamSpec = {
  name: 'case_sensitive',
  type: 'boolean',
  default: false,
  doc: 'Compare letters with their case; off by default, so "Paris" matches "paris".',
};

/** The reference's final answer: after the last "####" (GSM8K), else its \boxed / <answer>, else all of it. */
export function referenceAnswer(answer: string): string {
  const hash = answer.lastIndexOf('####');
  if (hash >= 0) return answer.slice(hash + 4);
  return extractFinalAnswer(answer) ?? answer;
}

function pick(completion: string, answer: string, extract: unknown): [string, string] {
  if (extract === 'none') return [completion, answer];
  return [extractFinalAnswer(completion) ?? completion, referenceAnswer(answer)];
}

export const exactMatch = defineReward(
  'exact_match',
  'Gives 1 when the completion says exactly the reference answer, else 0. Both sides are normalised first: ' +
    'trimmed, runs of spaces and newlines collapsed to one space, trailing punctuation (. , ; : ! ?) removed, ' +
    'and case ignored unless case_sensitive is set. Null when the reference is empty.',
  [
    CASE_SENSITIVE,
    { name: 'strip_punctuation', type: 'boolean', default: true, doc: 'Drop trailing punctuation before comparing, so "42." matches "42".' },
    EXTRACT,
  ],
  (completion, answer, _prompt, p) => {
    const opts = { caseInsensitive: !p.case_sensitive, stripTrailingPunctuation: p.strip_punctuation as boolean };
    const [c, a] = pick(completion, answer, p.extract);
    const ref = normalizeText(a, opts);
    if (ref === '') return null;
    return normalizeText(c, opts) === ref ? 1 : 0;
  },
);

export const numericMatch = defineReward(
  'numeric_match',
  'Gives 1 when the completion\'s number equals the reference\'s number, else 0. The completion\'s number is ' +
    'read from its last \\boxed{...}, else its last <answer>...</answer>, else the last number anywhere in it ' +
    '(so "The answer is 1,234." reads 1234). The reference\'s number is the last number after "####" ' +
    '(GSM8K), else in its \\boxed{} or <answer>, else anywhere. Thousands commas, decimals, negative signs, ' +
    'exponents, fractions a/b and \\frac{a}{b} are understood. Null when the reference has no number.',
  [
    { name: 'tolerance', type: 'number', min: 0, default: 1e-6, doc: 'Largest absolute difference still counted as equal.' },
    {
      name: 'relative_tolerance',
      type: 'number',
      min: 0,
      default: 0,
      doc: 'Extra allowance proportional to the reference: equal when |got - want| <= tolerance + relative_tolerance * |want|.',
    },
  ],
  (completion, answer, _prompt, p) => {
    const want = lastNumber(referenceAnswer(answer)) ?? lastNumber(answer);
    if (want === null) return null;
    const region = extractBoxed(completion) ?? extractAnswerTag(completion) ?? completion;
    const got = lastNumber(region);
    if (got === null) return 0;
    return Math.abs(got - want) <= (p.tolerance as number) + (p.relative_tolerance as number) * Math.abs(want) ? 1 : 0;
  },
);

export const contains = defineReward(
  'contains',
  'Gives 1 when the completion contains the reference answer (or the text parameter, when set) anywhere, ' +
    'else 0. Whitespace runs count as one space; case is ignored unless case_sensitive is set. Null when ' +
    'there is nothing to look for.',
  [
    { name: 'text', type: 'string', default: '', doc: 'Look for this text instead of the reference answer; empty means the reference answer.' },
    CASE_SENSITIVE,
  ],
  (completion, answer, _prompt, p) => {
    const opts = { caseInsensitive: !p.case_sensitive, stripTrailingPunctuation: false };
    const needle = normalizeText((p.text as string) || answer, opts);
    if (needle === '') return null;
    return normalizeText(completion, opts).includes(needle) ? 1 : 0;
  },
);

export const partialCredit = defineReward(
  'partial_credit',
  'Gives between 0 and 1 for how close the completion is to the reference: 1 - (Levenshtein edit distance) / ' +
    '(length of the longer text), after the same normalisation as exact_match. 1 is identical, 0 shares ' +
    'nothing. Useful as a dense signal when exact matches are rare. Null when the reference is empty.',
  [CASE_SENSITIVE, EXTRACT],
  (completion, answer, _prompt, p) => {
    const opts = { caseInsensitive: !p.case_sensitive, stripTrailingPunctuation: true };
    const [c0, a0] = pick(completion, answer, p.extract);
    const a = normalizeText(a0, opts);
    if (a === '') return null;
    const c = normalizeText(c0, opts);
    return 1 - levenshtein(c, a) / Math.max(c.length, a.length);
  },
);
