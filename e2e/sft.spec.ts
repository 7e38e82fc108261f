// Supervised fine-tuning in the page, then GRPO from its adapter in one click. The built-in model and the main
// demo dataset; algorithm "sft" chosen in the settings; a short run draws SFTTrainer's curves (loss,
// mean_token_accuracy, entropy, num_tokens) and no reward charts; the SFT adapter is exported; "Continue with
// GRPO" starts a GRPO run whose record names its parent and whose LoRA is the SFT adapter (with a learning rate
// too small to move it, the adapter after its first step is the SFT one, and its step-0 evaluation is the SFT
// run's last); the runs library lists the child with its parent.
import { expect, test, type Page } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { builtinPresent, collectErrors, openPlayground, screenshot, setSetting, shoot } from './helpers/playground';
import { readSafetensors } from '../src/model/safetensors';

async function finish(page: Page): Promise<void> {
  await expect(page.getByTestId('run-status')).toHaveText(/^(Finished|Stopped by an error)$/, { timeout: 400_000 });
  if ((await page.getByTestId('run-status').textContent()) !== 'Finished') throw new Error(`the run failed: ${await page.getByTestId('run-error').textContent()}`);
}

async function download(page: Page, button: string): Promise<Buffer> {
  await page.getByRole('tab', { name: 'Export' }).click();
  const wait = page.waitForEvent('download');
  await page.getByTestId('export').getByRole('button', { name: button, exact: true }).click();
  return readFileSync(await (await wait).path());
}

const metrics = (b: Buffer) => b.toString('utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, number>);

test('SFT in the page draws its curves; Continue with GRPO starts GRPO from the SFT adapter', async ({ page }) => {
  expect(builtinPresent(), 'the built-in model is not in public/models/tiny-puzzles/ (scripts/pretrain.ts makes it)').toBe(true);
  const errors = collectErrors(page);
  await openPlayground(page);
  await expect(page.getByTestId('model-status')).toHaveAttribute('data-state', 'ready', { timeout: 60_000 });
  await expect(page.getByTestId('dataset-status')).toHaveAttribute('data-state', 'ready', { timeout: 30_000 });

  await setSetting(page, 'algorithm', 'sft');
  await setSetting(page, 'max_steps', '6');
  await setSetting(page, 'prompts_per_step', '4');
  await setSetting(page, 'learning_rate', '0.003');
  await setSetting(page, 'eval_max_samples', '8');
  await expect(page.getByTestId('settings-problems')).toHaveCount(0);
  await page.getByRole('button', { name: 'Start', exact: true }).click();
  await finish(page);

  // SFTTrainer's curves, one point per step; no rollouts, so no reward or KL charts
  for (const id of ['sft-loss', 'sft-accuracy', 'sft-entropy', 'sft-tokens', 'grad-norm', 'lr']) {
    await expect(page.getByTestId(`chart-${id}`), id).toHaveAttribute('data-points', '6');
  }
  await expect(page.getByTestId('chart-sft-loss').locator('path.recharts-line-curve').first()).toHaveAttribute('d', /^M[\d.]+,[\d.]+L/);
  await expect(page.getByTestId('chart-reward')).toHaveCount(0);
  await expect(page.getByTestId('chart-kl')).toHaveCount(0);
  await shoot(page, 'charts-panel', 'sft-charts');
  const sftRows = metrics(await download(page, 'metrics.jsonl'));
  const sftSteps = sftRows.filter((r) => r.step > 0);
  expect(sftSteps.map((r) => r.step)).toEqual([1, 2, 3, 4, 5, 6]);
  for (const r of sftSteps) {
    expect(r.mean_token_accuracy, JSON.stringify(r)).toBeGreaterThanOrEqual(0);
    expect(r.mean_token_accuracy).toBeLessThanOrEqual(1);
    expect(r.loss).toBeGreaterThan(0);
  }
  // the built-in model was pretrained on these puzzles: most answer tokens are its argmax already
  expect(sftSteps[5].mean_token_accuracy).toBeGreaterThan(0.5);
  // num_tokens adds up every step's tokens
  expect(sftSteps[5].num_tokens).toBeGreaterThan(sftSteps[0].num_tokens);
  const sftAdapter = readSafetensors(new Uint8Array(await download(page, 'adapter_model.safetensors')), 'the SFT adapter').tensors;
  // the SFT moved the adapter: its B matrices are no longer zero
  expect([...sftAdapter].filter(([n]) => n.includes('lora_B')).some(([, t]) => t.data.some((x) => x !== 0))).toBe(true);
  const sftLastEval = sftRows.filter((r) => r['eval/pass@1'] !== undefined).at(-1)!;
  expect(sftLastEval.step).toBe(6);

  // one click: GRPO from this adapter (a learning rate too small to move it: its first step keeps the SFT weights)
  const cont = page.getByTestId('continue-from-sft');
  await expect(cont).toBeVisible();
  await shoot(page, 'run-bar', 'sft-continue');
  await setSetting(page, 'max_steps', '1');
  await setSetting(page, 'learning_rate', '1e-12');
  await cont.getByRole('button', { name: 'Continue with GRPO' }).click();
  await expect(page.getByTestId('run-parent')).toContainText(/LoRA initialised from the adapter of .*sft/);
  await finish(page);
  await expect(page.getByTestId('chart-reward')).toHaveAttribute('data-points', '1');
  await shoot(page, 'run-bar', 'grpo-from-sft-runbar');
  await screenshot(page, 'grpo-from-sft');

  const grpoRows = metrics(await download(page, 'metrics.jsonl'));
  // the GRPO run's step-0 evaluation is the SFT run's last: the same adapter, the same held-out prompts, greedy
  const step0 = grpoRows.find((r) => r.step === 0 && r['eval/pass@1'] !== undefined)!;
  expect(step0['eval/pass@1']).toBe(sftLastEval['eval/pass@1']);
  expect(step0['eval/reward_mean']).toBe(sftLastEval['eval/reward_mean']);
  expect(grpoRows.find((r) => r.step === 1)!.reward).toBeGreaterThanOrEqual(0);
  const grpoAdapter = readSafetensors(new Uint8Array(await download(page, 'adapter_model.safetensors')), 'the GRPO adapter').tensors;
  for (const [name, t] of sftAdapter) {
    const u = grpoAdapter.get(name)!;
    expect(u, name).toBeDefined();
    let worst = 0;
    t.data.forEach((x, i) => (worst = Math.max(worst, Math.abs(u.data[i] - x) / (1e-6 + Math.abs(x)))));
    expect(worst, name).toBeLessThan(1e-3);
  }

  // the runs library: the GRPO run names its parent
  await page.getByTestId('tab-runs').click();
  await expect(page.getByTestId('runs-row')).toHaveCount(2);
  await expect(page.getByTestId('run-parent-tag')).toHaveCount(1);
  await expect(page.getByTestId('run-parent-tag')).toContainText(/from sft .*\(sft\)/, { timeout: 10_000 });
  await shoot(page, 'experiments-panel', 'sft-grpo-runs');
  expect(errors).toEqual([]);
});

test('Continue with DPO: after SFT, a preference file, then DPO from the SFT adapter in one click', async ({ page }) => {
  const errors = collectErrors(page);
  await openPlayground(page);
  await expect(page.getByTestId('model-status')).toHaveAttribute('data-state', 'ready', { timeout: 60_000 });
  await expect(page.getByTestId('dataset-status')).toHaveAttribute('data-state', 'ready', { timeout: 30_000 });
  await setSetting(page, 'algorithm', 'sft');
  await setSetting(page, 'max_steps', '3');
  await setSetting(page, 'prompts_per_step', '4');
  await setSetting(page, 'learning_rate', '0.003');
  await setSetting(page, 'eval_max_samples', '4');
  await page.getByRole('button', { name: 'Start', exact: true }).click();
  await finish(page);
  // the preference file: read as prompt/answer rows while the algorithm is still "sft" (no answer column), then
  // as pairs once DPO is chosen
  const pairs = ['abc', 'dog', 'kqz', 'tmp', 'xyz', 'bfw'].map((w) => JSON.stringify({ prompt: `rev ${w}=`, chosen: [...w].reverse().join(''), rejected: [...w].reverse().join('').slice(0, 1) + w.slice(0, 2) })).join('\n');
  const chooser = page.waitForEvent('filechooser');
  await page.getByTestId('dataset-drop').getByText(/^Choose files?…$/).click();
  await (await chooser).setFiles({ name: 'pairs.jsonl', mimeType: 'application/json', buffer: Buffer.from(pairs) });
  await expect(page.getByTestId('dataset-status')).not.toHaveAttribute('data-state', 'loading', { timeout: 30_000 });
  await setSetting(page, 'max_steps', '2');
  await page.getByTestId('continue-from-sft').getByRole('button', { name: 'Continue with DPO' }).click();
  await expect(page.getByTestId('run-parent')).toContainText(/LoRA initialised from the adapter of .*sft/);
  await finish(page);
  await expect(page.getByTestId('chart-pref-logps')).toHaveAttribute('data-points', '2');
  await expect(page.getByTestId('dataset-status')).toHaveAttribute('data-state', 'ready');
  await shoot(page, 'run-bar', 'dpo-from-sft-runbar');
  expect(errors.filter((e) => !/could not tell which column/.test(e))).toEqual([]);
});
