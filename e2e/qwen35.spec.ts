// A Qwen3.5 folder in the page: a tiny random-weight Qwen3_5ForConditionalGeneration checkpoint (the language model
// under model.language_model.*, a vision tower and an mtp head the engine skips; the real Qwen3 tokenizer standing
// in) chosen through "Choose folder…" loads in the engine worker; the try-it generation (greedy) is the CPU
// reference's greedy continuation, token for token; and a GRPO run with LoRA on in_proj_qkv / out_proj / q_proj
// takes two steps with finite metrics.
import { expect, test } from '@playwright/test';
import { rm } from 'node:fs/promises';
import { defaultConfig, type GrpoConfig } from '../src/grpo/config';
import { parseHfConfig } from '../src/model/config';
import { loadModelFromPath } from '../src/model/load_node';
import { transformerForward } from '../src/reference/transformer';
import { QWEN35_TOKENIZER_TEXT, qwen35Weights, writeQwen35Folder } from '../test/model/qwen35_fixtures';
import { collectErrors, openPlayground, screenshot, shoot, uploadDataset } from './helpers/playground';

const PROMPT = 'Tell me a story';
const NEW_TOKENS = 6;

const CONFIG = {
  ...defaultConfig(),
  num_generations: 2, max_prompt_length: 16, max_completion_length: 4, learning_rate: 0.05, prompts_per_step: 2,
  reward_funcs: [{ name: 'custom', weight: 1, params: { source: '(p, c) => c.length' } }], lora_r: 2, lora_alpha: 4,
  lora_target_modules: ['in_proj_qkv', 'out_proj', 'q_proj'] as GrpoConfig['lora_target_modules'], seed: 3, max_steps: 2, eval_split: 0,
  eval_interval: 0, use_chat_template: false,
} satisfies GrpoConfig;

test('a Qwen3.5 folder: loads in the worker, greedy try-it equals the reference, GRPO steps', async ({ page }) => {
  const dir = await writeQwen35Folder('multimodal', qwen35Weights(parseHfConfig(QWEN35_TOKENIZER_TEXT), 61, 0.3));
  try {
    // the reference: the same folder read in Node, greedy by repeated whole-sequence forwards
    const m = await loadModelFromPath(dir);
    const promptIds = m.tokenizer.encode(PROMPT, { addBos: true });
    const seq = [...promptIds];
    const V = m.config.vocabSize;
    for (let s = 0; s < NEW_TOKENS; s++) {
      const logits = transformerForward(m.config, m.weights, seq, 1, seq.length, null).logits;
      let best = 0;
      for (let v = 1; v < V; v++) if (logits[(seq.length - 1) * V + v] > logits[(seq.length - 1) * V + best]) best = v;
      if (m.tokenizer.eosIds.includes(best)) break;
      seq.push(best);
    }
    const want = seq.slice(promptIds.length);

    const errors = collectErrors(page);
    await openPlayground(page, '?autoload=0');
    await page.getByText('From disk', { exact: true }).click();
    const chooser = page.waitForEvent('filechooser');
    await page.getByTestId('model-drop').getByText('Choose folder…').click();
    await (await chooser).setFiles(dir);
    await expect(page.getByTestId('model-status')).toHaveAttribute('data-state', 'ready', { timeout: 120_000 });
    await expect(page.getByTestId('model-status')).toContainText('Qwen3_5ForConditionalGeneration');
    await shoot(page, 'model-status', 'qwen35-model');

    const tried = await page.evaluate(async ({ prompt, n }) => {
      type Client = { call: (req: unknown, onProgress?: (p: unknown) => void) => Promise<any> };
      const engine = (window as unknown as { grpoEngine: Client }).grpoEngine;
      return engine.call({
        type: 'generate', prompt, maxNewTokens: n, temperature: 0, topK: 0, topP: 1, seed: 0,
        settings: { system_prompt: null, prompt_template: null, use_chat_template: false },
      });
    }, { prompt: PROMPT, n: NEW_TOKENS });
    expect(tried.promptTokens).toBe(promptIds.length);
    expect(tried.base.tokens).toBe(want.length);
    expect(tried.base.text).toBe(m.tokenizer.decode(want));

    // a GRPO run in the worker: two steps, finite metrics, the adapter's in_proj_qkv trained
    await uploadDataset(page, 'qwen35.jsonl', ['Tell me a story', 'What is 2+3?', 'Name a colour', 'Say hello']
      .map((prompt) => JSON.stringify({ prompt, answer: 'a' })).join('\n'), 'application/jsonl');
    const run = await page.evaluate(async (config) => {
      type Client = { call: (req: unknown, onProgress?: (p: unknown) => void) => Promise<any> };
      const engine = (window as unknown as { grpoEngine: Client }).grpoEngine;
      const steps: any[] = [];
      const end = await engine.call({ type: 'train', config, fresh: true }, (e: any) => {
        if (e.kind === 'step') steps.push({ step: e.step, metrics: e.metrics });
      });
      const adapter = await engine.call({ type: 'exportAdapter' });
      const headerLen = new DataView(adapter.weights.buffer, adapter.weights.byteOffset).getUint32(0, true);
      const header = JSON.parse(new TextDecoder().decode(adapter.weights.subarray(8, 8 + headerLen)));
      return { end, steps, keys: Object.keys(header) };
    }, CONFIG);
    expect(run.steps.map((s: { step: number }) => s.step)).toEqual([1, 2]);
    for (const s of run.steps) {
      for (const name of ['reward', 'loss', 'grad_norm', 'entropy']) expect(Number.isFinite(s.metrics[name]), `${name} = ${s.metrics[name]}`).toBe(true);
    }
    expect(run.keys).toContain('base_model.model.model.language_model.layers.0.linear_attn.in_proj_qkv.lora_A.weight');
    expect(run.keys).toContain('base_model.model.model.language_model.layers.1.self_attn.q_proj.lora_B.weight');
    await screenshot(page, 'qwen35-page');
    expect(errors).toEqual([]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
