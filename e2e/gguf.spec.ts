// GGUF models in the page: a random-weight Qwen3 GGUF (Q4_K_M: Q4_K and Q6_K blocks, written by the tests'
// independent writer, test/model/gguf_models.ts) chosen "From disk" loads in the engine worker, the model panel
// shows its quantisation per tensor group and the memory it saves, it generates and trains a short LoRA run;
// then a repository of GGUF files on a Hub-shaped server this spec starts (test/hub/hub_server.ts) offers its
// quantisations, and the chosen one downloads and loads.
import { expect, test } from '@playwright/test';
import { tinyGgufFile, ggufRepoFixtures } from '../test/hub/gguf_repo';
import { startHubServer, type HubServer } from '../test/hub/hub_server';
import { defaultConfig, type GrpoConfig } from '../src/grpo/config';
import { chooseFiles, collectErrors, openPlayground, setSetting, shoot } from './helpers/playground';

let server: HubServer;
test.beforeAll(async () => {
  server = await startHubServer({ models: ggufRepoFixtures() });
});
test.afterAll(async () => {
  await server.close();
});

const CONFIG = {
  ...defaultConfig(),
  num_generations: 2, max_prompt_length: 16, max_completion_length: 4, learning_rate: 0.01, prompts_per_step: 1,
  reward_funcs: [{ name: 'contains', weight: 1, params: {} }], lora_r: 2, lora_alpha: 4,
  lora_target_modules: ['q_proj', 'v_proj'] as GrpoConfig['lora_target_modules'], seed: 3, max_steps: 2, eval_split: 0,
  eval_interval: 0, use_chat_template: false,
} satisfies GrpoConfig;

test('a GGUF file from disk: quantisation per tensor group, generation and a short LoRA run in the worker', async ({ page }) => {
  const errors = collectErrors(page);
  await openPlayground(page, '?autoload=0');
  await page.getByText('From disk', { exact: true }).click();
  await chooseFiles(page, 'model-drop', { name: 'Tiny-Qwen3-Q4_K_M.gguf', mimeType: 'application/octet-stream', buffer: Buffer.from(tinyGgufFile('Q4_K_M')) });
  await expect(page.getByTestId('model-status')).toHaveAttribute('data-state', 'ready', { timeout: 120_000 });
  await expect(page.getByTestId('model-name')).toHaveText('tiny-qwen3');
  await expect(page.getByTestId('model-status')).toContainText('Qwen3ForCausalLM');

  // the base on the GPU by tensor group: Q4_K_M keeps v_proj and down_proj in Q6_K, the rest of the matrices in Q4_K
  const groups = page.getByTestId('weight-groups');
  await expect(groups).toBeVisible({ timeout: 60_000 });
  await expect(groups.getByTestId('weight-group-attention-q').getByTestId('weight-group-types')).toHaveText('Q4_K');
  await expect(groups.getByTestId('weight-group-attention-v').getByTestId('weight-group-types')).toHaveText('Q6_K');
  await expect(groups.getByTestId('weight-group-MLP-down').getByTestId('weight-group-types')).toHaveText('Q6_K');
  await expect(groups.getByTestId('weight-group-norms').getByTestId('weight-group-types')).toHaveText('f32');
  // the model keeps f32 under "auto" below 50M parameters except its blocks; Q4_K (144 bytes a 256-block) saves 72% of bf16's bytes, Q6_K (210, padded to 212) 59%
  await expect(groups.getByTestId('weight-group-attention-q')).toContainText('(72%)');
  await expect(groups.getByTestId('weight-group-attention-v')).toContainText('(59%)');
  await expect(page.getByTestId('memory-plan')).toBeVisible({ timeout: 60_000 });
  await shoot(page, 'model-panel', 'gguf-model-panel');

  // the table follows the run's base_precision: "f32" stores every matrix in f32
  await setSetting(page, 'base_precision', 'f32');
  await expect(groups.getByTestId('weight-group-attention-q').getByTestId('weight-group-types')).toHaveText('f32', { timeout: 30_000 });
  // base_precision "q8_0" quantises the matrices at load (the norms stay f32)
  await setSetting(page, 'base_precision', 'q8_0');
  await expect(groups.getByTestId('weight-group-MLP-down').getByTestId('weight-group-types')).toHaveText('Q8_0', { timeout: 30_000 });
  await expect(groups.getByTestId('weight-group-norms').getByTestId('weight-group-types')).toHaveText('f32');
  await setSetting(page, 'base_precision', 'auto');
  await expect(groups.getByTestId('weight-group-attention-q').getByTestId('weight-group-types')).toHaveText('Q4_K', { timeout: 30_000 });

  // generation and a short LoRA run through the page's engine worker, on the model the panel loaded
  const result = await page.evaluate(async (config) => {
    type Client = { call: (req: unknown, onProgress?: (p: unknown) => void) => Promise<any> };
    const engine = (window as unknown as { grpoEngine: Client }).grpoEngine;
    const settings = { system_prompt: null, prompt_template: null, use_chat_template: false };
    const tried = await engine.call({ type: 'generate', prompt: 'the world', maxNewTokens: 4, temperature: 0, topK: 0, topP: 1, seed: 1, settings });
    const rows = ['the world', 'hello there', 'a word', 'or the'].map((p) => JSON.stringify({ prompt: p, answer: 'world' }));
    await engine.call({ type: 'loadDataset', file: { name: 'data.jsonl', bytes: new TextEncoder().encode(rows.join('\n')) } });
    const steps: any[] = [];
    const run = await engine.call({ type: 'train', config, fresh: true }, (e: any) => e.kind === 'step' && steps.push(e));
    const adapter = await engine.call({ type: 'exportAdapter' });
    return { tried, run, steps: steps.map((s) => ({ step: s.step, metrics: s.metrics })), adapterBytes: adapter.weights.length };
  }, CONFIG);
  expect(typeof result.tried.base.text).toBe('string');
  expect(result.steps.map((s) => s.step)).toEqual([1, 2]);
  for (const s of result.steps) for (const k of ['loss', 'grad_norm', 'reward']) expect(Number.isFinite(s.metrics[k]), `${k} = ${s.metrics[k]}`).toBe(true);
  expect(result.adapterBytes).toBeGreaterThan(0);
  expect(errors).toEqual([]);
});

test('a Hub repository of GGUF files: its quantisations to choose from, the chosen one downloads and loads', async ({ page }) => {
  const errors = collectErrors(page);
  await openPlayground(page, '?autoload=0');
  await page.getByText('Hugging Face Hub', { exact: true }).click();
  const scope = page.getByTestId('model-panel');
  const details = scope.locator('details.hub-settings');
  if (!(await details.evaluate((d) => (d as HTMLDetailsElement).open))) await details.locator('summary').click();
  await scope.getByLabel('Hub endpoint').fill(server.url);
  await page.getByLabel('Model on the Hub').fill('test-org/Tiny-Qwen3-GGUF');
  await page.getByRole('button', { name: 'Check' }).click();
  const choices = page.getByTestId('hub-gguf-choice');
  await expect(choices).toHaveCount(2);
  await expect(choices.nth(0)).toContainText('Q4_K_M');
  await expect(choices.nth(1)).toContainText('Q8_0');
  await expect(page.getByTestId('hub-gguf-choices')).toContainText('Set aside: split files (several parts; not read here): 2; vision projectors (mmproj): 1.');
  await expect(page.getByTestId('hub-plan-summary')).toHaveText('2 GGUF files (quantisations): choose one');
  expect(server.log.some((r) => r.path.endsWith('.gguf'))).toBe(false);
  await choices.nth(1).getByRole('radio').check();
  await expect(page.getByLabel('Model on the Hub')).toHaveValue('test-org/Tiny-Qwen3-GGUF:Q8_0');
  await expect(page.getByTestId('hub-plan-summary')).toHaveText(/^1 file, .* kB: .* kB to download$/);
  await shoot(page, 'model-panel', 'gguf-hub-choices');
  await page.getByRole('button', { name: /^Download .* and load$/ }).click();
  await expect(page.getByTestId('model-status')).toHaveAttribute('data-state', 'ready', { timeout: 120_000 });
  await expect(page.getByTestId('weight-group-attention-q').getByTestId('weight-group-types')).toHaveText('Q8_0', { timeout: 60_000 });
  const ggufRequests = server.log.filter((r) => r.path.endsWith('.gguf') && r.method === 'GET').map((r) => r.path.split('/').pop());
  expect(new Set(ggufRequests)).toEqual(new Set(['Tiny-Qwen3-Q8_0.gguf']));
  expect(errors).toEqual([]);
});
