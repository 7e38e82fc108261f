// `grpo-playground generate` and `grpo-playground logprobs`.
import { acquireNodeGpu } from '../gpu/node';
import { loadModelArg } from './sources';
import { openModelRunner } from './model_runner';
import { numberOpt, parse, requireString, UsageError, type Options } from './args';

const MODEL_OPTIONS: Options = {
  model: { type: 'string' },
  tokenizer: { type: 'string' },
  adapter: { type: 'string' },
  prompt: { type: 'string' },
  json: { type: 'boolean' },
};

export async function generateCommand(argv: string[]): Promise<void> {
  const v = parse(argv, {
    ...MODEL_OPTIONS,
    'max-new-tokens': { type: 'string' },
    temperature: { type: 'string' },
    'top-k': { type: 'string' },
    'top-p': { type: 'string' },
    seed: { type: 'string' },
    stop: { type: 'string', multiple: true },
  });
  const modelPath = requireString(v, 'model');
  const prompt = requireString(v, 'prompt');
  const maxNew = numberOpt(v, 'max-new-tokens', 256, (n) => Number.isInteger(n) && n >= 1, 'a positive integer');
  const temperature = numberOpt(v, 'temperature', 1, (n) => n >= 0, 'a number >= 0 (0 is greedy)');
  const topK = numberOpt(v, 'top-k', 0, (n) => Number.isInteger(n) && n >= 0, 'an integer >= 0 (0 disables top-k)');
  const topP = numberOpt(v, 'top-p', 1, (n) => n > 0 && n <= 1, 'in (0, 1]');
  const seed = numberOpt(v, 'seed', 0, (n) => Number.isInteger(n) && n >= 0 && n < 2 ** 32, 'an integer in [0, 2^32)');

  const loaded = await loadModelArg(modelPath, v.tokenizer as string | undefined);
  const promptIds = loaded.tokenizer.encode(prompt, { addBos: true });
  const gpu = await acquireNodeGpu();
  try {
    const model = await openModelRunner(gpu, loaded, typeof v.adapter === 'string' ? v.adapter : undefined);
    const out = await model.generate([promptIds], {
      maxNewTokens: maxNew,
      temperature,
      topK,
      topP,
      seed,
      stopIds: loaded.tokenizer.eosIds,
      stopStrings: Array.isArray(v.stop) ? v.stop : [],
      decode: (ids) => loaded.tokenizer.decode([...promptIds, ...ids]).slice(loaded.tokenizer.decode(promptIds).length),
    });
    const completion = out.tokens[0];
    const text = out.texts?.[0] ?? loaded.tokenizer.decode([...promptIds, ...completion]).slice(loaded.tokenizer.decode(promptIds).length);
    if (v.json) {
      process.stdout.write(JSON.stringify({ prompt_ids: promptIds, completion_ids: completion, text }) + '\n');
    } else {
      process.stdout.write(prompt + text + '\n');
    }
  } finally {
    gpu.destroy();
  }
}

export async function logprobsCommand(argv: string[]): Promise<void> {
  const v = parse(argv, { ...MODEL_OPTIONS, completion: { type: 'string' }, temperature: { type: 'string' } });
  const modelPath = requireString(v, 'model');
  const prompt = requireString(v, 'prompt');
  if (typeof v.completion !== 'string') throw new UsageError('--completion is required');
  const temperature = numberOpt(v, 'temperature', 1, (n) => n > 0, 'a number > 0');
  const loaded = await loadModelArg(modelPath, v.tokenizer as string | undefined);
  const promptIds = loaded.tokenizer.encode(prompt, { addBos: true });
  // The completion's ids are those of the whole text minus the prompt's, so that tokens merge as they would in generation.
  const full = loaded.tokenizer.encode(prompt + v.completion, { addBos: true });
  const shared = promptIds.every((id, i) => full[i] === id);
  const completionIds = shared ? full.slice(promptIds.length) : loaded.tokenizer.encode(v.completion, { addBos: false });
  if (completionIds.length === 0) throw new UsageError('--completion encodes to no tokens');
  const gpu = await acquireNodeGpu();
  try {
    const model = await openModelRunner(gpu, loaded, typeof v.adapter === 'string' ? v.adapter : undefined);
    const out = await model.logprobs([{ prompt: promptIds, completion: completionIds }], temperature);
    const logprobs = [...out.logprobs[0]];
    if (v.json) process.stdout.write(JSON.stringify({ completion_ids: completionIds, logprobs }) + '\n');
    else process.stdout.write(`sum ${logprobs.reduce((a, b) => a + b, 0).toFixed(4)} over ${logprobs.length} tokens\n`);
  } finally {
    gpu.destroy();
  }
}
