// The calculator demo's data, tool and model (src/demo/calculator.ts, public/models/tiny-calculator): the corpus
// never holds a demo prompt, calls rarely and copies carelessly in the promised shares, masks the tool's
// results out of pretraining, the calc tool runs in the sandbox and its file equals the config's source, and
// the committed model loads with the calculator tokenizer.
import { readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, test } from 'vitest';
import {
  CALC_CHARSET, CALC_PATTERN, CALCULATOR_TOOLS_SOURCE, CALL_RATE, COPY_SLIPS, calculatorCorpus, calculatorDataset, readCompletion, withRightCall,
} from '../../src/demo/calculator';
import { CALCULATOR_MODEL, DEMO_DATASETS, demoConfig } from '../../src/demo/builtin';
import { validateConfig } from '../../src/grpo/config';
import { ToolRunner } from '../../src/grpo/tools/runner';
import { makeFormat } from '../../src/grpo/tools/formats';
import { loadModelFromPath } from '../../src/model/load_node';
import { charTokenizerJson, SPECIAL_TOKENS } from '../../src/demo/tokenizer';
import { parseDatasetBytes } from '../../src/data';
import { GpuTransformer } from '../../src/model/transformer';
import { generate } from '../../src/model/generate';
import { EOS_ID } from '../../src/demo/tokenizer';
import { testGpu } from '../gpu';

const PUBLIC = fileURLToPath(new URL('../../public/', import.meta.url));

describe('calculator corpus and dataset', () => {
  const demo = calculatorDataset();
  const corpus = calculatorCorpus({ size: 4000 });

  test('the demo dataset: distinct 3-digit additions with their sums, as committed in public/datasets/calculator.jsonl', () => {
    expect(new Set(demo.map((r) => r.prompt)).size).toBe(demo.length);
    for (const r of demo) {
      const m = /^(\d{3})\+(\d{3})=$/.exec(r.prompt)!;
      expect(m, r.prompt).not.toBeNull();
      expect(Number(r.answer)).toBe(Number(m[1]) + Number(m[2]));
    }
    const bytes = readFileSync(PUBLIC + 'datasets/calculator.jsonl');
    const parsed = parseDatasetBytes(new Uint8Array(bytes), 'calculator.jsonl');
    expect(parsed.rows.map((r) => [r.prompt, r.answer])).toEqual(demo.map((r) => [r.prompt, r.answer]));
  });

  test('the corpus excludes every demo prompt, calls in CALL_RATE of its rows and slips in COPY_SLIPS of its calls', () => {
    const held = new Set(demo.map((r) => r.prompt));
    expect(corpus.some((r) => held.has(r.prompt))).toBe(false);
    const calls = corpus.filter((r) => r.kind === 'call');
    expect(calls.length / corpus.length).toBeGreaterThan(CALL_RATE - 0.03);
    expect(calls.length / corpus.length).toBeLessThan(CALL_RATE + 0.03);
    const slips = calls.filter((r) => r.slip);
    expect(slips.length / calls.length).toBeGreaterThan(COPY_SLIPS - 0.05);
    expect(slips.length / calls.length).toBeLessThan(COPY_SLIPS + 0.05);
  });

  test('a call row: the call (trained), the tool result (context only: not trained), the copied result (trained); a slip changes one digit', () => {
    const format = makeFormat('pattern', { chatTemplate: null, tools: [{ name: 'calc', description: '', parameters: {} }], pattern: { ...CALC_PATTERN, observationTemplate: '{observation}' } });
    for (const r of corpus.slice(0, 400)) {
      const text = r.segments.map((s) => s.text).join('');
      expect([...r.prompt + text].every((ch) => CALC_CHARSET.includes(ch)), text).toBe(true);
      if (r.kind === 'guess') {
        expect(r.segments.map((x) => x.trained)).toEqual([true]);
        expect(r.prompt.slice(0, -1).split('+')).toContain(r.segments[0].text);
        continue;
      }
      expect(r.segments.map((s) => s.trained)).toEqual([true, false, true]);
      const call = format.findCall(r.segments[0].text);
      expect(call && 'name' in call ? call : null).toEqual({ name: 'calc', args: { input: expect.any(String) } });
      const input = (call as { args: { input: string } }).args.input;
      const [a, b] = input.split('+');
      const result = String(Number(a) + Number(b));
      expect(r.segments[1].text).toBe(format.toolResult(result));
      expect(r.segments[2].text).toBe(result);
      const want = r.prompt.slice(0, -1).replace('+', '');
      const diff = [...want].filter((ch, i) => ch !== (a + b)[i]).length;
      expect(diff, `${r.prompt} ${input}`).toBe(r.slip ? 1 : 0);
      expect(readCompletion(r.prompt, text)).toEqual({ called: true, copiedRight: !r.slip });
    }
    expect(readCompletion('123+456=', '579')).toEqual({ called: false, copiedRight: false });
  });
});

describe('calculator tool and demo config', () => {
  let runner: ToolRunner | null = null;
  afterAll(() => runner?.dispose());

  test('public/datasets/calculator.tools.js is the config\'s tools_source, and calc adds in the sandbox', async () => {
    expect(readFileSync(PUBLIC + 'datasets/calculator.tools.js', 'utf8')).toBe(CALCULATOR_TOOLS_SOURCE);
    const c = demoConfig('calculator');
    expect(c.tools_source).toBe(CALCULATOR_TOOLS_SOURCE);
    expect(validateConfig(c, { maxSequenceLength: 64 })).toEqual([]);
    expect(DEMO_DATASETS.find((d) => d.id === 'calculator')!.model).toBe(CALCULATOR_MODEL.name);
    runner = await ToolRunner.create(c.tools_source, null, { timeoutMs: 2000 });
    expect(runner.tools.map((t) => t.name)).toEqual(['calc']);
    expect(await runner.callTool('calc', { input: '123+456' })).toEqual({ ok: true, value: 579 });
    // what it cannot read gives an empty result (the model's vocabulary has no letters for an error message)
    expect(await runner.callTool('calc', { input: '12*3' })).toEqual({ ok: true, value: '' });
    expect(await runner.callTool('calc', { input: '' })).toEqual({ ok: true, value: '' });
  });

  test('the committed tiny-calculator folder loads with the calculator tokenizer', async () => {
    const dir = PUBLIC + CALCULATOR_MODEL.path;
    let bytes = 0;
    for (const f of CALCULATOR_MODEL.files) bytes += statSync(dir + f).size;
    expect(bytes).toBeLessThanOrEqual(10 * 1024 * 1024);
    const m = await loadModelFromPath(dir);
    expect(m.config.vocabSize).toBe(SPECIAL_TOKENS.length + CALC_CHARSET.length);
    expect(JSON.parse(readFileSync(dir + 'tokenizer.json', 'utf8'))).toEqual(charTokenizerJson(CALC_CHARSET));
    // one token per character after BOS, and back
    const ids = m.tokenizer.encode('123+456=[123+456](579)579', { addBos: true });
    expect(ids.length).toBe(26);
    expect(ids[0]).toBe(m.tokenizer.bosId);
    expect(m.tokenizer.decode(ids.slice(1))).toBe('123+456=[123+456](579)579');
    expect(m.weights.get('model.norm.weight')!.data.some((v) => Math.abs(v - 1) > 0.05)).toBe(true);
  });
});

describe('the committed tiny-calculator calls rarely and copies carelessly (what the demo starts from)', () => {
  // 64 demo prompts (none of them in its corpus), on the real engine: sampled at temperature 1 as the demo
  // samples, it calls in few answers; made to call (a "[" after the prompt) it copies the numbers right most
  // of the time greedily; and handed a right result it copies it as its answer
  test('sampled call rate under 40%, greedy copying of the call and of the result at 60% or more', async () => {
    const gpu = await testGpu();
    const m = await loadModelFromPath(PUBLIC + CALCULATOR_MODEL.path);
    const model = GpuTransformer.upload(gpu, m.config, m.weights);
    try {
      const rows = calculatorDataset().slice(0, 64);
      const enc = (t: string) => m.tokenizer.encode(t, { addBos: true });
      const opts = { maxNewTokens: 20, temperature: 1, topK: 0, topP: 1, seed: 0, stopIds: [EOS_ID], lora: null };
      const sampled = await generate(model, rows.map((r) => enc(r.prompt)), opts);
      const calls = sampled.tokens.filter((t) => m.tokenizer.decode(t).startsWith(CALC_PATTERN.open)).length;
      expect(calls / rows.length, 'sampled call rate').toBeLessThan(0.4);
      expect(calls, 'it does call sometimes').toBeGreaterThan(0);
      const greedy = { ...opts, temperature: 0 };
      const called = await generate(model, rows.map((r) => enc(r.prompt + CALC_PATTERN.open)), greedy);
      const bodyRight = rows.filter((r, i) => m.tokenizer.decode(called.tokens[i]).startsWith(`${r.prompt.slice(0, -1)}${CALC_PATTERN.close}`)).length;
      expect(bodyRight / rows.length, 'greedy call copies both numbers').toBeGreaterThanOrEqual(0.6);
      const withResult = rows.map((r) => enc(withRightCall(r)));
      const answered = await generate(model, withResult, { ...greedy, maxNewTokens: 6 });
      const resultRight = rows.filter((r, i) => m.tokenizer.decode(answered.tokens[i]).trim() === r.answer).length;
      expect(resultRight / rows.length, 'greedy answer copies the result').toBeGreaterThanOrEqual(0.6);
    } finally {
      model.release();
    }
  }, 120_000);
});
