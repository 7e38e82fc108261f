// Train a few steps on a model picked from disk, then: export the PEFT adapter (its safetensors header and
// adapter_config.json checked), the .zip with everything, the metrics and the TRL script; compare base and
// tuned models in Try it; import the exported adapter back and keep training it.
import { expect, test, type Download, type Page } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { unzipSync } from 'fflate';
import { collectErrors, loadStories, openPlayground, screenshot, setSetting, shoot, STORY_ROWS, uploadDataset } from './helpers/playground';

async function download(page: Page, button: string): Promise<{ name: string; bytes: Buffer }> {
  const wait = page.waitForEvent('download');
  await page.getByTestId('export').getByRole('button', { name: button, exact: true }).click();
  const d: Download = await wait;
  return { name: d.suggestedFilename(), bytes: readFileSync(await d.path()) };
}

function safetensorsHeader(bytes: Uint8Array): Record<string, { dtype: string; shape: number[] } | Record<string, string>> {
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  return JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
}

test('export the adapter, metrics and script; try it; import the adapter back', async ({ page }) => {
  const errors = collectErrors(page);
  await openPlayground(page);
  await loadStories(page);
  await uploadDataset(page, 'stories.jsonl', STORY_ROWS + '\n{"prompt": "<i>x</i> & <script>window.__xss=1</script>", "answer": "ball"}\n');
  await expect(page.getByTestId('rows-kept')).toHaveText('9');

  await page.locator('[data-testid=reward-card] select').first().selectOption('contains');
  await setSetting(page, 'max_steps', '5');
  await setSetting(page, 'num_generations', '4');
  await setSetting(page, 'max_completion_length', '8');
  await setSetting(page, 'lora_r', '4');
  await setSetting(page, 'lora_alpha', '8');
  await setSetting(page, 'eval_split', '0');
  await page.getByRole('button', { name: 'Start', exact: true }).click();
  // Pause after the first step, then Resume to the end
  await expect(page.getByTestId('run-step')).toHaveText('1', { timeout: 60_000 });
  await page.getByRole('button', { name: 'Pause' }).click();
  await expect(page.getByTestId('run-status')).toHaveText('Paused', { timeout: 60_000 });
  const pausedAt = Number(await page.getByTestId('run-step').textContent());
  expect(pausedAt).toBeLessThan(5); // the step under way when Pause arrives still finishes
  await page.getByRole('button', { name: 'Resume' }).click();
  await expect(page.getByTestId('run-status')).toHaveText('Finished', { timeout: 120_000 });
  await expect(page.getByTestId('run-step')).toHaveText('5');

  // the rollouts show the data's HTML as text
  await page.getByTestId('rollout-step').selectOption({ label: 'all kept steps (5)' });
  await page.getByTestId('rollout-search').fill('script');
  await expect(page.getByTestId('rollout-group').first()).toContainText('<script>window.__xss=1</script>');
  expect(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss)).toBeUndefined();
  await page.getByTestId('rollout-search').fill('');

  await page.getByRole('tab', { name: 'Export' }).click();
  // adapter_model.safetensors: PEFT names, shapes [r, in] / [out, r], metadata format pt
  const weights = await download(page, 'adapter_model.safetensors');
  expect(weights.name).toBe('adapter_model.safetensors');
  const header = safetensorsHeader(weights.bytes);
  expect(header.__metadata__).toEqual({ format: 'pt' });
  const keys = Object.keys(header).filter((k) => k !== '__metadata__');
  expect(keys).toHaveLength(5 * 4 * 2); // 5 layers x q,k,v,o x A,B
  expect(header['base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight']).toMatchObject({ dtype: 'F32', shape: [4, 64] });
  expect(header['base_model.model.model.layers.4.self_attn.v_proj.lora_B.weight']).toMatchObject({ dtype: 'F32', shape: [32, 4] });
  // adapter_config.json
  const cfgFile = await download(page, 'adapter_config.json');
  const adapterConfig = JSON.parse(cfgFile.bytes.toString('utf8'));
  expect(adapterConfig).toMatchObject({ peft_type: 'LORA', task_type: 'CAUSAL_LM', r: 4, lora_alpha: 8, target_modules: ['q_proj', 'k_proj', 'v_proj', 'o_proj'], base_model_name_or_path: 'stories260K' });
  // the zip holds the adapter folder and the run's files
  const zip = await download(page, 'Download all (.zip)');
  expect(zip.name).toMatch(/^stories260K-grpo-step5\.zip$/);
  const files = unzipSync(new Uint8Array(zip.bytes));
  expect(Object.keys(files).sort()).toEqual(['adapter_config.json', 'adapter_model.safetensors', 'metrics.csv', 'metrics.jsonl', 'train_grpo.py', 'training_config.json']);
  expect(Buffer.from(files['adapter_model.safetensors']).equals(weights.bytes)).toBe(true);
  // metrics: one row per step in TRL's names
  const csv = (await download(page, 'metrics.csv')).bytes.toString('utf8').trim().split('\n');
  expect(csv[0].split(',')).toEqual(expect.arrayContaining(['step', 'reward', 'reward_std', 'rewards/contains/mean', 'loss', 'grad_norm', 'kl', 'entropy']));
  expect(csv).toHaveLength(1 + 5);
  const jsonl = (await download(page, 'metrics.jsonl')).bytes.toString('utf8').trim().split('\n').map((l) => JSON.parse(l));
  expect(jsonl.map((r) => r.step)).toEqual([1, 2, 3, 4, 5]);
  const runConfig = JSON.parse((await download(page, 'training_config.json')).bytes.toString('utf8'));
  expect(runConfig).toMatchObject({ max_steps: 5, num_generations: 4, lora_r: 4 });
  const script = (await download(page, 'train_grpo.py')).bytes.toString('utf8');
  expect(script).toContain('from trl import GRPOConfig, GRPOTrainer');
  expect(script).toContain('max_steps=5,');
  expect(script).toContain('make_contains("contains")');
  await screenshot(page, 'export');
  await shoot(page, 'results-tabs', 'export-panel');

  // Try it: base and tuned side by side, same seed, with the answer's log-probability
  await page.getByRole('tab', { name: 'Try it' }).click();
  await page.getByLabel('Prompt', { exact: true }).fill('Once upon a time');
  await page.getByLabel(/Expected answer/).fill(' there was a ball');
  await page.getByRole('button', { name: 'Generate' }).click();
  await expect(page.getByTestId('tryit-tuned')).toBeVisible({ timeout: 60_000 });
  await expect(page.getByTestId('tryit-base')).toContainText('tokens');
  await expect(page.getByTestId('tryit-tuned')).toContainText('Tuned (step 5)');
  const base = Number(await page.getByTestId('tryit-base-logprob').textContent());
  const tuned = Number(await page.getByTestId('tryit-tuned-logprob').textContent());
  expect(base).toBeLessThan(0);
  expect(tuned).toBeLessThan(0);
  await screenshot(page, 'tryit');
  await shoot(page, 'results-tabs', 'tryit-panel');
  await shoot(page, 'model-panel', 'model-panel');
  await shoot(page, 'dataset-panel', 'dataset-panel');

  // import the exported zip: a paused run at step 0 with the adapter's shape, then one more step
  await page.getByRole('tab', { name: 'Export' }).click();
  await setSetting(page, 'lora_r', '8');
  const chooser = page.waitForEvent('filechooser');
  await page.getByTestId('adapter-drop').getByText('Choose files…').click();
  await (await chooser).setFiles({ name: 'run.zip', mimeType: 'application/zip', buffer: zip.bytes });
  await expect(page.getByTestId('import-done')).toContainText('r = 4');
  await expect(page.getByTestId('run-status')).toHaveText('Paused');
  await expect(page.locator('[data-field="lora_r"] input')).toHaveValue('4');
  // the imported adapter is the one the run holds: exporting it again gives the same bytes
  const again = await download(page, 'adapter_model.safetensors');
  expect(again.bytes.equals(weights.bytes)).toBe(true);
  await page.getByRole('button', { name: 'Step', exact: true }).click();
  await expect(page.getByTestId('run-step')).toHaveText('1', { timeout: 60_000 });
  await expect(page.getByTestId('run-status')).toHaveText('Paused');
  expect(errors.filter((e) => !/tiny-puzzles|models\/|datasets\//.test(e))).toEqual([]);
});
