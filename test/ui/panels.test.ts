// Logic behind the setup panels: the settings table covers every config field and sorts validation
// messages to their fields; numbers parse as people type them; token-length histograms; model URLs are
// planned and downloaded with progress and a cache; custom-reward messages are sorted by row.
import { describe, expect, test } from 'vitest';
import { CONFIG_DOCS, CONFIG_KEYS, checkConfig, defaultConfig, validateConfig } from '../../src/grpo/config';
import { FIELD_INPUTS, fieldGroups, formatNumberInput, parseNumber, problemsByField } from '../../src/ui/settings/fields';
import { evalRowCount, lengthHistogram } from '../../src/ui/dataset/histogram';
import { splitDataset } from '../../src/data';
import { downloadModel, planModelUrls, type DownloadEnv, type DownloadProgress } from '../../src/ui/model/download';
import { splitRowErrors } from '../../src/ui/rewards/tryCustom';

describe('settings fields', () => {
  test('every config field has an input and a group, in the docs order', () => {
    expect(Object.keys(FIELD_INPUTS).sort()).toEqual([...CONFIG_KEYS].sort());
    const grouped = fieldGroups().flatMap((g) => g.keys);
    expect([...grouped].sort()).toEqual(Object.keys(CONFIG_DOCS).sort());
    for (const g of fieldGroups()) for (const k of g.keys) expect(CONFIG_DOCS[k].group).toBe(g.group);
    expect(fieldGroups().map((g) => g.group)).toContain('GRPO loss');
  });
  test('validation problems land on the field they are keyed to', () => {
    const c = { ...defaultConfig(), num_generations: 1, epsilon_high: 0.1, max_prompt_length: 500, learning_rate: NaN };
    const problems = checkConfig(c, { maxSequenceLength: 512 });
    expect(problems.map((p) => p.message)).toEqual(validateConfig(c, { maxSequenceLength: 512 }));
    const byField = problemsByField(problems);
    expect(byField.num_generations?.[0]).toMatch(/at least 2/);
    expect(byField.epsilon_high?.[0]).toMatch(/smaller than epsilon/);
    expect(byField.max_prompt_length?.[0]).toMatch(/context/);
    expect(byField.learning_rate?.[0]).toMatch(/learning_rate/);
    expect(Object.keys(byField).sort()).toEqual(['epsilon_high', 'learning_rate', 'max_prompt_length', 'num_generations']);
    const rewards = problemsByField(checkConfig({ ...defaultConfig(), reward_funcs: [{ name: 'exact_matc', weight: 1, params: {} }] }));
    expect(rewards.reward_funcs?.[0]).toMatch(/did you mean exact_match/);
    // a message that does not start with its field's name still lands on the field
    const zero = problemsByField(checkConfig({ ...defaultConfig(), reward_funcs: [{ name: 'exact_match', weight: 0, params: {} }] }));
    expect(zero.reward_funcs?.[0]).toMatch(/^every reward weight is 0/);
  });
  test('inputs come from the schema: kind, menu choices, minimum, nullable numbers', () => {
    expect(FIELD_INPUTS.num_generations).toEqual({ kind: 'int', min: 2 });
    expect(FIELD_INPUTS.loss_type).toMatchObject({ kind: 'enum', choices: expect.arrayContaining(['dapo', 'cispo', 'sapo']) });
    expect(FIELD_INPUTS.delta).toMatchObject({ kind: 'optional_number', suggest: 4 });
    expect(FIELD_INPUTS.system_prompt).toEqual({ kind: 'text' });
    expect(FIELD_INPUTS.lora_target_modules).toMatchObject({ kind: 'modules' });
    expect(FIELD_INPUTS.reward_funcs).toEqual({ kind: 'rewards' });
  });
  test('numbers parse as written; anything else is NaN', () => {
    expect(parseNumber('5e-4')).toBe(0.0005);
    expect(parseNumber(' 0.25 ')).toBe(0.25);
    expect(parseNumber('.5')).toBe(0.5);
    expect(parseNumber('-3')).toBe(-3);
    for (const bad of ['', '1e-', 'abc', '1,000', '0x10', 'Infinity']) expect(parseNumber(bad), bad).toBeNaN();
    expect(formatNumberInput(0.0005)).toBe('5e-4');
    expect(formatNumberInput(1e-8)).toBe('1e-8');
    expect(formatNumberInput(0.003)).toBe('0.003');
    expect(formatNumberInput(NaN)).toBe('');
  });
});

describe('token-length histograms', () => {
  test('bins cover the data and the limit; rows past the limit are counted', () => {
    const lengths = Uint32Array.from([1, 2, 2, 3, 10, 40]);
    const h = lengthHistogram(lengths, 8, 10);
    expect(h.bins.reduce((a, b) => a + b.count, 0)).toBe(6);
    expect(h.over).toBe(2);
    expect(h.max).toBe(40);
    expect(h.mean).toBeCloseTo(58 / 6);
    expect(h.bins[0].from).toBe(0);
    expect(h.bins.at(-1)!.to).toBeGreaterThanOrEqual(40);
    expect(h.bins.find((b) => b.from <= 3 && 3 <= b.to)!.over).toBe(false);
    expect(h.bins.at(-1)!.over).toBe(true);
    const small = lengthHistogram(Uint32Array.from([1]), 64);
    expect(small.bins.at(-1)!.to).toBeGreaterThanOrEqual(64);
  });
  test('split sizes match the trainer’s split', () => {
    for (const [n, f] of [[10, 0.1], [1000, 0.05], [3, 0.5], [1, 0.2], [50, 0]] as const) {
      const split = splitDataset(Array.from({ length: n }, (_, i) => i), f, 1);
      expect(evalRowCount(n, f), `${n} rows, ${f}`).toBe(split.eval.length);
    }
  });
});

function fakeEnv(files: Record<string, string | Uint8Array>) {
  const store = new Map<string, Uint8Array>();
  const fetched: string[] = [];
  const env: DownloadEnv = {
    fetch: async (url) => {
      fetched.push(url);
      const body = files[url];
      if (body === undefined) return new Response('missing', { status: 404, statusText: 'Not Found' });
      const bytes = (typeof body === 'string' ? new TextEncoder().encode(body) : body) as Uint8Array<ArrayBuffer>;
      return new Response(bytes, { headers: { 'content-length': String(bytes.length) } });
    },
    cache: {
      match: async (req) => {
        const b = store.get(String(req));
        return b ? new Response(b as Uint8Array<ArrayBuffer>) : undefined;
      },
      put: async (req, res) => {
        store.set(String(req), new Uint8Array(await res.arrayBuffer()));
      },
    } as DownloadEnv['cache'],
  };
  return { env, fetched, store };
}

describe('model downloads', () => {
  test('a Hugging Face repository expands to its files; other input is one URL per line', () => {
    const p = planModelUrls('https://huggingface.co/HuggingFaceTB/SmolLM2-135M');
    expect(p.repo).toBe('HuggingFaceTB/SmolLM2-135M');
    expect(p.files[0]).toEqual({ url: 'https://huggingface.co/HuggingFaceTB/SmolLM2-135M/resolve/main/config.json', name: 'SmolLM2-135M/config.json', optional: false });
    expect(p.discoverWeights).toBe(true);
    expect(planModelUrls('Qwen/Qwen2.5-0.5B').repo).toBe('Qwen/Qwen2.5-0.5B');
    expect(planModelUrls('https://huggingface.co/org/m/tree/v1.0').files[0].url).toBe('https://huggingface.co/org/m/resolve/v1.0/config.json');
    const two = planModelUrls('https://x.org/a/stories260K.bin\nhttps://x.org/a/tok512.bin?download=1');
    expect(two.files.map((f) => f.name)).toEqual(['stories260K.bin', 'tok512.bin']);
    expect(planModelUrls('https://huggingface.co/o/m/blob/main/config.json').files[0].url).toBe('https://huggingface.co/o/m/resolve/main/config.json');
    expect(() => planModelUrls('')).toThrow(/enter a Hugging Face model/);
    expect(() => planModelUrls('not a url\nsecond')).toThrow(/is not a URL/);
    expect(() => planModelUrls('ftp://x/y\nftp://x/z')).toThrow(/only http/);
  });

  test('downloads with progress, skips missing optional files, finds shards, and reads the cache the second time', async () => {
    const base = 'https://huggingface.co/o/m/resolve/main/';
    const { env, fetched } = fakeEnv({
      [base + 'config.json']: '{}',
      [base + 'tokenizer.json']: '{"t": 1}',
      [base + 'model.safetensors.index.json']: JSON.stringify({ weight_map: { a: 's1.safetensors', b: 's2.safetensors', c: 's1.safetensors' } }),
      [base + 's1.safetensors']: new Uint8Array(1000),
      [base + 's2.safetensors']: new Uint8Array(500),
    });
    const plan = planModelUrls('o/m');
    const progress: DownloadProgress[] = [];
    const files = await downloadModel(plan, env, (p) => progress.push(p));
    expect(files.map((f) => f.name)).toEqual(['m/config.json', 'm/tokenizer.json', 'm/model.safetensors.index.json', 'm/s1.safetensors', 'm/s2.safetensors']);
    expect(files.every((f) => !f.fromCache)).toBe(true);
    const last = progress.filter((p) => p.file === 'm/s1.safetensors').at(-1)!;
    expect(last).toMatchObject({ loaded: 1000, total: 1000 });
    expect(progress.at(-1)!.files).toBe(8); // 5 planned + the weights, then 2 shards found
    const before = fetched.length;
    const again = await downloadModel(plan, env, () => undefined);
    expect(again.filter((f) => f.fromCache).map((f) => f.name)).toEqual(files.map((f) => f.name));
    // only the files that are not there (404s are never cached) are asked for again
    expect(fetched.slice(before).every((u) => /tokenizer_config|generation_config|chat_template|model\.safetensors$/.test(u))).toBe(true);
    expect(again.map((f) => f.bytes.length)).toEqual(files.map((f) => f.bytes.length));
  });

  test('errors name the URL and what to do', async () => {
    const { env } = fakeEnv({});
    await expect(downloadModel(planModelUrls('https://x.org/m.bin\nhttps://x.org/t.bin'), env, () => undefined)).rejects.toThrow(/x\.org\/m\.bin: not found/);
    const gated: DownloadEnv = { ...env, fetch: async () => new Response('', { status: 401, statusText: 'Unauthorized' }) };
    await expect(downloadModel(planModelUrls('o/m'), gated, () => undefined)).rejects.toThrow(/gated or private/);
  });
});

test('custom reward messages go to their rows', () => {
  const { errors, batchErrors } = splitRowErrors(['row 1: boom', 'row 3: returned NaN', 'timed out'], 4);
  expect(errors).toEqual([null, 'boom', null, 'returned NaN']);
  expect(batchErrors).toEqual(['timed out']);
});

test('advantages are coloured green above the group mean, red below, stronger further away', async () => {
  const { advantageColor } = await import('../../src/ui/rollouts/RolloutsPanel');
  expect(advantageColor(0)).toBe('transparent');
  expect(advantageColor(NaN)).toBe('transparent');
  const alpha = (c: string) => Number(/([\d.]+)\)$/.exec(c)![1]);
  expect(advantageColor(1)).toMatch(/^rgba\(43, 138, 62/);
  expect(advantageColor(-1)).toMatch(/^rgba\(201, 42, 42/);
  expect(alpha(advantageColor(2))).toBeGreaterThan(alpha(advantageColor(0.5)));
  expect(alpha(advantageColor(5))).toBe(alpha(advantageColor(2)));
});
