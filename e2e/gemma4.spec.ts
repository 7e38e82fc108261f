// A random-weight Gemma 4 folder (E2B-like tiny: sliding and full layers with their own head sizes, the last three
// sharing K/V, per-layer embeddings, soft-cap; Gemma4ForConditionalGeneration's layout with vision/audio tensors
// the loader skips; the real Gemma 3 tokenizer, vocabulary 262,144) through the page: "Choose folder…" loads it in
// the engine worker; the worker's greedy completion and answer log-prob equal the CPU reference's; a GRPO run of two
// steps exports a Gemma 4 PEFT adapter (no k/v on shared layers) whose log-prob, applied by the reference, is the one
// the try-it panel then shows for the tuned model.
import { expect, test } from '@playwright/test';
import { readdirSync } from 'node:fs';
import { parseHfConfig } from '../src/model/config';
import { defaultConfig, type GrpoConfig } from '../src/grpo/config';
import { transformerForward, type LoraMap } from '../src/reference/transformer';
import { loadModelFromPath } from '../src/model/load_node';
import { gemma4LoraScale, parseGemma4PeftAdapter } from '../src/model/gemma4_peft';
import { gemma4TinyJson, gemma4Weights, writeGemma4Folder } from '../test/model/gemma4_fixtures';
import { greedyReference } from '../test/model/tiny';
import { collectErrors, openPlayground, screenshot } from './helpers/playground';

const JSON_ = gemma4TinyJson({ vocab_size: 262144, vocab_size_per_layer_input: 262144, hidden_size_per_layer_input: 2 });
const config = parseHfConfig(JSON_, 'config.json');
const weights = gemma4Weights(config, 17, 0.5);
const SETTINGS = { system_prompt: null, prompt_template: null, use_chat_template: false };
const RUN = {
  ...defaultConfig(), num_generations: 2, prompts_per_step: 2, max_prompt_length: 32, max_completion_length: 3, learning_rate: 0.02,
  lora_r: 2, lora_alpha: 4, lora_target_modules: ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'] as GrpoConfig['lora_target_modules'],
  beta: 0.04, temperature: 1, seed: 3, max_steps: 2, eval_split: 0, eval_interval: 0, use_chat_template: false, checkpoint_interval: 0,
  reward_funcs: [{ name: 'custom', weight: 1, params: { source: '(prompt, completion) => completion.length / 10' } }],
} satisfies GrpoConfig;

function refLogprob(prompt: number[], completion: number[], lora: LoraMap | null): number {
  const seq = [...prompt, ...completion];
  const V = config.vocabSize;
  const logits = transformerForward(config, weights, seq, 1, seq.length, lora).logits;
  return completion.reduce((acc, tok, j) => {
    const t = prompt.length + j - 1;
    let m = -Infinity;
    for (let v = 0; v < V; v++) m = Math.max(m, logits[t * V + v]);
    let s = 0;
    for (let v = 0; v < V; v++) s += Math.exp(logits[t * V + v] - m);
    return acc + logits[t * V + tok] - m - Math.log(s);
  }, 0);
}

test('a Gemma 4 folder: generation and log-probs equal the reference; GRPO exports an adapter the reference applies', async ({ page }) => {
  const folder = await writeGemma4Folder(JSON_, weights, 'conditional');
  expect(readdirSync(folder)).toContain('tokenizer.json');
  const loaded = await loadModelFromPath(folder);
  const tok = loaded.tokenizer;
  const errors = collectErrors(page);
  await openPlayground(page, '?autoload=0');
  await page.getByText('From disk', { exact: true }).click();
  const chooser = page.waitForEvent('filechooser');
  await page.getByTestId('model-drop').getByText('Choose folder…').click();
  await (await chooser).setFiles(folder);
  await expect(page.getByTestId('model-status')).toHaveAttribute('data-state', 'ready', { timeout: 120_000 });
  await expect(page.getByTestId('model-status')).toContainText('Gemma4ForConditionalGeneration');
  await screenshot(page, 'gemma4-loaded');

  const prompt = 'Capital of France?';
  const answer = ' Paris';
  const rows = [['Capital of France?', 'Paris'], ['What is two plus two?', 'four'], ['Sky?', 'blue'], ['Opposite of hot?', 'cold']];
  const result = await page.evaluate(async ({ prompt, answer, settings, data }) => {
    type Client = { call: (req: unknown, onProgress?: (p: unknown) => void) => Promise<any> };
    const engine = (window as unknown as { grpoEngine: Client }).grpoEngine;
    const tried = await engine.call({ type: 'generate', prompt, answer, maxNewTokens: 4, temperature: 0, topK: 0, topP: 1, seed: 1, settings });
    await engine.call({ type: 'loadDataset', file: { name: 'qa.jsonl', bytes: new TextEncoder().encode(data) } });
    return { tried };
  }, { prompt, answer, settings: SETTINGS, data: rows.map(([p, a]) => JSON.stringify({ prompt: p, answer: a })).join('\n') });
  const promptIds = tok.encode(prompt, { addBos: true });
  const answerIds = tok.encode(answer, { addBos: false });
  expect(result.tried.promptTokens).toBe(promptIds.length);
  expect(result.tried.base.text).toBe(tok.decode(greedyReference(config, weights, null, promptIds, 4)));
  expect(result.tried.base.answerLogprob).toBeCloseTo(refLogprob(promptIds, answerIds, null), 3);

  // GRPO: 2 steps, a reward that varies (the completion's length), beta > 0 (reference log-probs)
  const run = await page.evaluate(async ({ config }) => {
    type Client = { call: (req: unknown, onProgress?: (p: unknown) => void) => Promise<any> };
    const engine = (window as unknown as { grpoEngine: Client }).grpoEngine;
    const steps: any[] = [];
    const end = await engine.call({ type: 'train', config, fresh: true }, (e: any) => { if (e.kind === 'step') steps.push(e.metrics); });
    const adapter = await engine.call({ type: 'exportAdapter' });
    return { end, steps, weights: Array.from(adapter.weights as Uint8Array), config: adapter.config as string };
  }, { config: RUN });
  expect(run.end).toEqual({ state: 'finished', step: 2 });
  for (const m of run.steps) expect(Number.isFinite(m.loss) && Number.isFinite(m.grad_norm), JSON.stringify(m)).toBe(true);
  const parsed = parseGemma4PeftAdapter({ weights: Uint8Array.from(run.weights), config: run.config }, loaded.config);
  expect(parsed.factors.has('model.layers.4.self_attn.k_proj')).toBe(false);
  expect([...parsed.factors.values()].some((f) => f.B.some((x) => x !== 0))).toBe(true);
  const ref: LoraMap = new Map([...parsed.factors].map(([p, f]) => [p, { ...f, r: parsed.spec.r, scale: gemma4LoraScale(parsed.spec) }]));

  // the try-it panel, as a person uses it (its own settings): base and tuned side by side; then the same request
  // greedy through the worker, compared with the reference
  await page.getByRole('tab', { name: 'Try it' }).click();
  await page.getByLabel('Prompt', { exact: true }).fill(prompt, { timeout: 30_000 });
  await page.getByLabel(/Expected answer/).fill(answer);
  await page.getByRole('button', { name: 'Generate' }).click();
  await expect(page.getByTestId('tryit-tuned')).toBeVisible({ timeout: 120_000 });
  await expect(page.getByTestId('tryit-tuned')).toContainText('Tuned (step 2)');
  const tuned = await page.evaluate(async ({ prompt, answer, settings }) => {
    type Client = { call: (req: unknown) => Promise<any> };
    const engine = (window as unknown as { grpoEngine: Client }).grpoEngine;
    return engine.call({ type: 'generate', prompt, answer, maxNewTokens: 4, temperature: 0, topK: 0, topP: 1, seed: 1, settings });
  }, { prompt, answer, settings: SETTINGS });
  expect(tuned.tuned.answerLogprob).toBeCloseTo(refLogprob(promptIds, answerIds, ref), 3);
  expect(tuned.tuned.text).toBe(tok.decode(greedyReference(config, weights, ref, promptIds, 4)));
  await page.getByTestId('tryit').scrollIntoViewIfNeeded();
  await page.getByTestId('tryit').screenshot({ path: 'test-results/gemma4-tryit.png' });
  expect(errors).toEqual([]);
});
