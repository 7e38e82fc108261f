// Rewards on the form of a completion rather than its correctness: format (a regular expression),
// length_penalty (distance from a target length), soft_overlong (DAPO's soft overlong punishment).
// Lengths count tokens when the trainer passes info.completion_tokens, else characters (UTF-16 units).

import { defineReward } from './params';
import type { RewardInfo } from './types';

export const DEFAULT_FORMAT_PATTERN = '^<think>[\\s\\S]*?</think>\\s*<answer>[\\s\\S]*?</answer>$';

const regexCache = new Map<string, RegExp>();
function cachedRegExp(pattern: string, flags: string): RegExp {
  const key = `${flags}/${pattern}`;
  let re = regexCache.get(key);
  if (!re) {
    re = new RegExp(pattern, flags.replace(/[gy]/g, ''));
    if (regexCache.size > 64) regexCache.clear();
    regexCache.set(key, re);
  }
  return re;
}

function completionLength(completion: string, info: RewardInfo): number {
  return info.completion_tokens ?? completion.length;
}

export const format = defineReward(
  'format',
  'Gives 1 when the completion matches a regular expression, else 0. The default asks for reasoning in ' +
    '<think>...</think> followed by the answer in <answer>...</answer> and nothing else, the format of ' +
    'DeepSeek-R1-Zero style training.',
  [
    { name: 'pattern', type: 'regex', default: DEFAULT_FORMAT_PATTERN, doc: 'JavaScript regular expression; use ^ and $ to match the whole completion.' },
    { name: 'flags', type: 'string', default: '', doc: 'Regular expression flags, e.g. "i" to ignore case, "s" to let . match newlines.' },
    { name: 'trim', type: 'boolean', default: true, doc: 'Remove leading and trailing whitespace from the completion before matching.' },
  ],
  (completion, _answer, _prompt, p) => {
    const text = p.trim ? completion.trim() : completion;
    return cachedRegExp(p.pattern as string, p.flags as string).test(text) ? 1 : 0;
  },
);

export const lengthPenalty = defineReward(
  'length_penalty',
  'Penalises distance from a target length: -|length - target| / target, never below floor. 0 at the ' +
    'target, -0.5 at half or one and a half times it. Length is in tokens when the trainer passes the token ' +
    'count (it does during training), else in characters.',
  [
    { name: 'target', type: 'number', greaterThan: 0, default: 32, doc: 'The length that earns 0 (the best score).' },
    { name: 'floor', type: 'number', default: -1, doc: 'The lowest score given, however far from the target.' },
  ],
  (completion, _answer, _prompt, p, info) => {
    const target = p.target as number;
    return Math.max(p.floor as number, 0 - Math.abs(completionLength(completion, info) - target) / target);
  },
);

export const softOverlong = defineReward(
  'soft_overlong',
  'DAPO\'s soft overlong punishment (Yu et al. 2025, "DAPO", section 3.4): 0 while the completion is at most ' +
    'max_completion_length - cache_length long, then falling linearly to -1 at max_completion_length, and -1 ' +
    'beyond. It teaches the model to finish before it is cut off. Length is in tokens when the trainer passes ' +
    'the token count (it does during training), else in characters.',
  [
    {
      name: 'max_completion_length',
      type: 'integer',
      min: 1,
      nullable: true,
      default: null,
      doc: 'Length L_max where the punishment reaches -1; null uses the run\'s max_completion_length (tokens).',
    },
    { name: 'cache_length', type: 'integer', min: 1, default: 16, doc: 'Width L_cache of the zone before L_max where the punishment grows from 0 to -1 (DAPO used 4096 of 20480).' },
  ],
  (completion, _answer, _prompt, p, info) => {
    const max = (p.max_completion_length as number | null) ?? info.max_completion_length;
    if (max === undefined) throw new Error('soft_overlong needs max_completion_length: set the parameter, or pass the run\'s value in info');
    const cache = p.cache_length as number;
    const len = completionLength(completion, info);
    if (len <= max - cache) return 0;
    if (len <= max) return (max - cache - len) / cache;
    return -1;
  },
);
