// GRPO in the browser's engine worker through the typed protocol: load stories260K and a dataset, train,
// pause, resume, export a PEFT adapter and import it back. The page's own thread never asks for a GPU.
import { expect, test } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { defaultConfig, type GrpoConfig } from '../src/grpo/config';

const SHARED = fileURLToPath(new URL('../../shared/models/stories260K/', import.meta.url));
const b64 = (path: string) => readFileSync(path).toString('base64');

// the defaults, so that a field added to the config later needs no edit here
const CONFIG = {
  ...defaultConfig(),
  num_generations: 4, max_prompt_length: 32, max_completion_length: 8, learning_rate: 0.005, prompts_per_step: 2,
  reward_funcs: [{ name: 'contains', weight: 1, params: {} }], lora_r: 4, lora_alpha: 8,
  lora_target_modules: ['q_proj', 'v_proj'] as GrpoConfig['lora_target_modules'], seed: 3, max_steps: 20, eval_split: 0.25,
  eval_interval: 0, eval_max_samples: 4, use_chat_template: false,
} satisfies GrpoConfig;

test('train, pause, resume, export and import in the engine worker', async ({ page }) => {
  await page.addInitScript(() => {
    // count any GPU acquisition on the page's thread (the worker has its own navigator)
    const w = window as unknown as { mainThreadAdapterRequests: number };
    w.mainThreadAdapterRequests = 0;
    const gpu = navigator.gpu;
    if (gpu) {
      const original = gpu.requestAdapter.bind(gpu);
      gpu.requestAdapter = (opts?: GPURequestAdapterOptions) => {
        w.mainThreadAdapterRequests++;
        return original(opts);
      };
    }
  });
  // ?autoload=0: the page does not load the built-in model and demo data, so the requests below are the only ones
  await page.goto('/?autoload=0');
  await expect(page.getByTestId('adapter-vendor')).not.toBeEmpty({ timeout: 60_000 });

  const result = await page.evaluate(
    async ({ model, tokenizer, baseConfig }) => {
      type Client = { call: (req: unknown, onProgress?: (p: unknown) => void) => Promise<any> };
      const engine = (window as unknown as { grpoEngine: Client }).grpoEngine;
      const bytes = (s: string) => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
      const summary = await engine.call({
        type: 'loadModel',
        files: [{ name: 'stories260K.bin', bytes: bytes(model) }, { name: 'tok512.bin', bytes: bytes(tokenizer) }],
      });
      const rows = ['Once upon a time', 'The little dog', 'One day, Lily', 'Tom had a big'].map((p) => JSON.stringify({ prompt: p, answer: 'ball' }));
      const dataset = await engine.call({ type: 'loadDataset', file: { name: 'data.jsonl', bytes: new TextEncoder().encode(rows.join('\n') + '\n{bad json\n') } });
      const config = baseConfig;
      const events: any[] = [];
      let paused = false;
      const first = await engine.call({ type: 'train', config, fresh: true }, (e: any) => {
        events.push(e);
        if (e.kind === 'step' && !paused) {
          paused = true;
          void engine.call({ type: 'interrupt', kind: 'pause' });
        }
      });
      const resumed = await engine.call({ type: 'train', config, fresh: false, maxSteps: 1 }, (e: any) => events.push(e));
      // the playground's extra requests: token lengths, try-it generation, GPU status
      const lengths = await engine.call({ type: 'tokenLengths', settings: { system_prompt: null, prompt_template: null, use_chat_template: false } });
      const tried = await engine.call({
        type: 'generate', prompt: 'Once upon a time', answer: ' there was', maxNewTokens: 6, temperature: 0, topK: 0, topP: 1, seed: 1,
        settings: { system_prompt: null, prompt_template: null, use_chat_template: false },
      });
      // stories260K's greedy continuation through the page's kernel path equals llama2.c's reference output
      const reference = await engine.call({
        type: 'generate', prompt: 'Once upon a time', maxNewTokens: 40, temperature: 0, topK: 0, topP: 1, seed: 0,
        settings: { system_prompt: null, prompt_template: null, use_chat_template: false },
      });
      const status = await engine.call({ type: 'gpuStatus' });
      const adapter = await engine.call({ type: 'exportAdapter' });
      const imported = await engine.call({ type: 'importAdapter', weights: adapter.weights, config: adapter.config, runConfig: config });
      const again = await engine.call({ type: 'exportAdapter' });
      const headerLen = new DataView(adapter.weights.buffer, adapter.weights.byteOffset).getUint32(0, true);
      const header = JSON.parse(new TextDecoder().decode(adapter.weights.subarray(8, 8 + headerLen)));
      let badConfig = '';
      try {
        await engine.call({ type: 'train', config: { ...config, num_generations: 1 }, fresh: true });
      } catch (e) {
        badConfig = (e as Error).message;
      }
      return {
        summary, dataset, first, resumed, events, referenceText: reference.base.text as string, adapterConfig: JSON.parse(adapter.config), header,
        sameAfterImport: adapter.weights.length === again.weights.length && adapter.weights.every((b: number, i: number) => b === again.weights[i]),
        imported, badConfig, lengths: { prompt: Array.from(lengths.prompt), answer: Array.from(lengths.answer) }, tried, status,
        mainThreadAdapterRequests: (window as unknown as { mainThreadAdapterRequests: number }).mainThreadAdapterRequests,
      };
    },
    { model: b64(SHARED + 'stories260K.bin'), tokenizer: b64(SHARED + 'tok512.bin'), baseConfig: CONFIG },
  );

  expect(result.summary).toMatchObject({ name: 'stories260K', layers: 5, hiddenSize: 64, vocabSize: 512 });
  expect(result.dataset.counts).toMatchObject({ kept: 4, invalid: 1 });
  expect(result.dataset.issues[0].line).toBe(5);
  // paused after the first step, then one more step on resume
  expect(result.first.state).toBe('paused');
  expect(result.resumed).toEqual({ state: 'paused', step: result.first.step + 1 });
  const steps = result.events.filter((e: any) => e.kind === 'step');
  expect(steps.map((e: any) => e.step)).toEqual([...Array(result.resumed.step).keys()].map((i) => i + 1));
  for (const s of steps) {
    for (const name of ['reward', 'reward_std', 'loss', 'grad_norm', 'learning_rate', 'entropy', 'completions/mean_length', 'rewards/contains/mean']) {
      expect(Number.isFinite(s.metrics[name]), `${name} = ${s.metrics[name]}`).toBe(true);
    }
    expect(s.groups.length).toBe(2);
    expect(s.groups[0].completions.length).toBe(4);
    expect(typeof s.groups[0].completions[0].text).toBe('string');
  }
  const evals = result.events.filter((e: any) => e.kind === 'eval');
  expect(evals[0]).toMatchObject({ step: 0, n: 1 });
  // PEFT files
  expect(result.header.__metadata__).toEqual({ format: 'pt' });
  expect(Object.keys(result.header)).toContain('base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight');
  expect(result.header['base_model.model.model.layers.4.self_attn.v_proj.lora_B.weight'].shape).toEqual([32, 4]);
  expect(result.adapterConfig).toMatchObject({ peft_type: 'LORA', r: 4, lora_alpha: 8, target_modules: ['q_proj', 'v_proj'] });
  expect(result.imported).toEqual({ r: 4, targetModules: ['q_proj', 'v_proj'] });
  expect(result.sameAfterImport).toBe(true);
  expect(result.badConfig).toMatch(/num_generations/);
  expect(result.lengths.prompt).toHaveLength(4);
  expect((result.lengths.answer as number[]).every((n) => n >= 1)).toBe(true);
  expect(result.tried.base.tokens).toBeGreaterThan(0);
  expect(result.referenceText.startsWith(', there was a little girl named Lily. She loved to play outside in the park. One day, she saw a big, red ball.'),
    result.referenceText).toBe(true);
  expect(result.tried.tuned.answerLogprob).toBeLessThan(0);
  expect(result.tried.step).toBe(result.resumed.step);
  expect(result.status.lost).toBeNull();
  expect(result.status.pool.bytesInUse).toBeGreaterThan(0);
  expect(result.mainThreadAdapterRequests).toBe(0);
});
