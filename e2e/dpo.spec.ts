// Preference training in the page. DPO: stories260K, a preference file (prompt / chosen / rejected, one bad
// row), the algorithm chosen in the settings (the file is read again as pairs), the preview with chosen and
// rejected and their token-length histograms, a short run, and the charts of chosen vs rejected log-probs,
// implicit rewards and pair accuracy. KTO on labelled completions with a separate test file picked while the
// algorithm was still GRPO (read again as labelled completions). ORPO reloaded after its step-2 checkpoint
// resumes to the metrics of an uninterrupted run. The preference demo opens from the first screen. Online DPO
// trains on the main demo's rollouts.
import { expect, test, type Page } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { builtinPresent, chooseFiles, collectErrors, loadStories, openPlayground, screenshot, setSetting, shoot, STORIES, uploadDataset } from './helpers/playground';

const PROMPTS = ['Once upon a time', 'The little dog', 'One day, Lily', 'Tom had a big', 'The cat sat on', 'A bird flew to', 'Sam ran to', 'Mia saw a'];
const PAIRS = [
  ...PROMPTS.map((prompt) => JSON.stringify({ prompt, chosen: ' dog', rejected: ' cat' })),
  JSON.stringify({ prompt: 'Ben had a', chosen: ' dog' }), // line 9: no rejected
].join('\n');

test('a short DPO run in the page draws chosen vs rejected log-probs and pair accuracy', async ({ page }) => {
  const errors = collectErrors(page);
  await openPlayground(page);
  await loadStories(page);
  await setSetting(page, 'algorithm', 'dpo');
  await setSetting(page, 'beta', '0.1');
  await uploadDataset(page, 'pairs.jsonl', PAIRS);
  await expect(page.getByTestId('dataset-status')).toHaveAttribute('data-state', 'ready');
  const preview = page.getByTestId('dataset-preview');
  await expect(preview.locator('th', { hasText: 'Chosen' })).toBeVisible();
  await expect(preview.locator('th', { hasText: 'Rejected' })).toBeVisible();
  await expect(preview.locator('tbody tr').first()).toContainText('cat');
  await expect(page.getByText(/missing the rejected field/).first()).toBeVisible();
  // token lengths of the chosen and of the rejected completions
  await expect(page.getByTestId('hist-answer')).toHaveAttribute('aria-label', /^Chosen tokens: mean \d/);
  await expect(page.getByTestId('hist-rejected')).toHaveAttribute('aria-label', /^Rejected tokens: mean \d/);
  await shoot(page, 'dataset-panel', 'dpo-dataset');

  await setSetting(page, 'max_steps', '6');
  await setSetting(page, 'prompts_per_step', '2');
  await setSetting(page, 'max_completion_length', '8');
  await setSetting(page, 'learning_rate', '0.01');
  await setSetting(page, 'lora_r', '4');
  await setSetting(page, 'lora_alpha', '8');
  await setSetting(page, 'eval_split', '0.25');
  await setSetting(page, 'eval_max_samples', '2');
  await page.getByRole('button', { name: 'Start', exact: true }).click();
  await expect(page.getByTestId('run-status')).toHaveText(/^(Finished|Stopped by an error)$/, { timeout: 300_000 });
  if ((await page.getByTestId('run-status').textContent()) !== 'Finished') throw new Error(`the run failed: ${await page.getByTestId('run-error').textContent()}`);

  const logps = page.getByTestId('chart-pref-logps');
  await expect(logps).toHaveAttribute('data-points', '6');
  await expect(logps).toContainText('logps/chosen');
  await expect(logps).toContainText('logps/rejected');
  await expect(page.getByTestId('chart-pref-rewards')).toHaveAttribute('data-points', '6');
  const accuracy = page.getByTestId('chart-pref-accuracy');
  await expect(accuracy).toHaveAttribute('data-points', '6');
  // the held-out pairs: the adapter ends preferring " dog" over " cat" on prompts it never trained on
  await expect(accuracy).toHaveAttribute('aria-label', /latest (9\d|100)(\.\d+)?%/);
  // offline preference training has no rollouts: no reward chart
  await expect(page.getByTestId('chart-reward')).toHaveCount(0);
  await expect(page.getByTestId('chart-kl')).toHaveCount(0);
  await shoot(page, 'charts-panel', 'dpo-charts');
  expect(errors).toEqual([]);
});

async function metricsJsonl(page: Page): Promise<Record<string, number>[]> {
  await page.getByRole('tab', { name: 'Export' }).click();
  const wait = page.waitForEvent('download');
  await page.getByTestId('export').getByRole('button', { name: 'metrics.jsonl', exact: true }).click();
  const text = readFileSync(await (await wait).path(), 'utf8');
  // the training steps (a row of step 0 holds the evaluation before training)
  return text.trim().split('\n').map((l) => JSON.parse(l) as Record<string, number>).filter((r) => r.step > 0);
}

async function finish(page: Page): Promise<void> {
  await expect(page.getByTestId('run-status')).toHaveText(/^(Finished|Stopped by an error)$/, { timeout: 300_000 });
  if ((await page.getByTestId('run-status').textContent()) !== 'Finished') throw new Error(`the run failed: ${await page.getByTestId('run-error').textContent()}`);
}

async function shortRun(page: Page, steps: number): Promise<void> {
  await setSetting(page, 'beta', '0.1');
  await setSetting(page, 'max_steps', String(steps));
  await setSetting(page, 'prompts_per_step', '2');
  await setSetting(page, 'max_completion_length', '8');
  await setSetting(page, 'learning_rate', '0.01');
  await setSetting(page, 'lora_r', '4');
  await setSetting(page, 'lora_alpha', '8');
  await setSetting(page, 'eval_max_samples', '2');
}

const UNPAIRED = PROMPTS.flatMap((prompt) => [JSON.stringify({ prompt, completion: ' dog', label: true }), JSON.stringify({ prompt, completion: ' cat', label: false })]).join('\n');
const HELD_UNPAIRED = ['Ben had a', 'Lily saw a'].flatMap((prompt) => [JSON.stringify({ prompt, completion: ' dog', label: true }), JSON.stringify({ prompt, completion: ' cat', label: false })]).join('\n');

test('KTO trains on labelled completions, held out on a separate test file picked before the algorithm', async ({ page }) => {
  const errors = collectErrors(page);
  await openPlayground(page);
  await loadStories(page);
  // picked while GRPO is chosen: read as prompt/answer (prompt, completion), 4 rows
  await chooseFiles(page, 'eval-file-drop', { name: 'held.jsonl', mimeType: 'application/json', buffer: Buffer.from(HELD_UNPAIRED) });
  await expect(page.getByTestId('eval-file')).toContainText('Test file: held.jsonl (4 rows)');
  await setSetting(page, 'algorithm', 'kto');
  await uploadDataset(page, 'unpaired.jsonl', UNPAIRED);
  await expect(page.getByTestId('dataset-status')).toHaveAttribute('data-state', 'ready');
  const preview = page.getByTestId('dataset-preview');
  await expect(preview.locator('th', { hasText: 'Label' })).toBeVisible();
  await expect(page.getByTestId('hist-answer')).toHaveAttribute('aria-label', /^Completion tokens:/);
  await expect(page.getByTestId('hist-rejected')).toHaveCount(0);
  await shortRun(page, 3);
  await page.getByRole('button', { name: 'Start', exact: true }).click();
  await finish(page);
  await expect(page.getByTestId('eval-file-error')).toHaveCount(0);
  const logps = page.getByTestId('chart-pref-logps');
  await expect(logps).toHaveAttribute('data-points', '3');
  // unpaired completions: no pair accuracy to draw
  await expect(page.getByTestId('chart-pref-accuracy')).toHaveCount(0);
  const rows = await metricsJsonl(page);
  expect(rows.map((r) => r.step)).toEqual([1, 2, 3]);
  // measured on the test file's labelled completions
  for (const r of rows) expect(Number.isFinite(r['eval_logps/chosen']), JSON.stringify(r)).toBe(true);
  await shoot(page, 'charts-panel', 'kto-charts');
  expect(errors).toEqual([]);
});

/** metrics of a preference step that do not depend on timing */
const PREF_METRICS = ['loss', 'grad_norm', 'learning_rate', 'logps/chosen', 'logps/rejected', 'rewards/chosen', 'rewards/rejected', 'rewards/accuracies', 'eval_logps/chosen'];
const pick = (rows: Record<string, number>[]): Record<string, number>[] => rows.map((r) => ({ step: r.step, ...Object.fromEntries(PREF_METRICS.map((k) => [k, r[k]])) }));

test('an ORPO run reloaded after its step-2 checkpoint resumes to the metrics of an uninterrupted run', async ({ page }) => {
  const errors = collectErrors(page);
  await openPlayground(page);
  await loadStories(page);
  await setSetting(page, 'algorithm', 'orpo');
  await uploadDataset(page, 'pairs.jsonl', PAIRS);
  await expect(page.getByTestId('dataset-status')).toHaveAttribute('data-state', 'ready');
  await shortRun(page, 4);
  await setSetting(page, 'eval_split', '0.25');
  await setSetting(page, 'checkpoint_interval', '2');

  await page.getByRole('button', { name: 'Start', exact: true }).click();
  await finish(page);
  const reference = pick(await metricsJsonl(page));
  expect(reference.map((r) => r.step)).toEqual([1, 2, 3, 4]);
  expect(new Set(reference.map((r) => r.loss)).size).toBe(4);

  // the same run again, two steps one at a time (so that it cannot run past its step-2 checkpoint), then a reload
  const stepButton = page.getByRole('button', { name: 'Step', exact: true });
  await stepButton.click();
  await expect(page.getByTestId('run-step')).toHaveText('1', { timeout: 120_000 });
  await expect(stepButton).toBeEnabled({ timeout: 60_000 });
  await stepButton.click();
  await page.locator('[data-testid=run-checkpoint][data-step="2"][data-stored=true]').waitFor({ timeout: 120_000 });
  await page.reload();
  await expect(page.getByTestId('gpu-chip')).toHaveAttribute('data-ready', 'true', { timeout: 60_000 });
  const banner = page.getByTestId('resume-banner');
  await expect(banner).toBeVisible({ timeout: 30_000 });
  await expect(banner.getByRole('heading')).toHaveText('Resume run from step 2 of 4?');
  await banner.getByRole('button', { name: 'Resume', exact: true }).click();
  await chooseFiles(page, 'resume-model-drop', [`${STORIES}stories260K.bin`, `${STORIES}tok512.bin`]);
  await expect(banner).toBeHidden({ timeout: 120_000 });
  await expect(page.getByTestId('run-log')).toContainText('Resumed the run saved at step 2');
  await expect(page.locator('[data-field="algorithm"] select')).toHaveValue('orpo');
  await finish(page);
  await expect(page.getByTestId('run-step')).toHaveText('4');
  await expect(page.getByTestId('chart-pref-logps')).toHaveAttribute('data-points', '4');
  await screenshot(page, 'orpo-resumed');
  expect(pick(await metricsJsonl(page))).toEqual(reference);
  expect(errors.filter((e) => !/models\/|datasets\//.test(e))).toEqual([]);
});

test('the preference demo opens from the first screen with its pairs and its DPO config, and trains', async ({ page }) => {
  expect(builtinPresent(), 'the built-in model is not in public/models/tiny-puzzles/ (scripts/pretrain.ts makes it)').toBe(true);
  const errors = collectErrors(page);
  await openPlayground(page);
  await expect(page.getByTestId('model-status')).toHaveAttribute('data-state', 'ready', { timeout: 60_000 });
  await page.getByRole('radio', { name: /Prefer the right reversal \(DPO\)/ }).check();
  await expect(page.getByTestId('dataset-status')).toHaveAttribute('data-state', 'ready', { timeout: 30_000 });
  await expect(page.locator('[data-field="algorithm"] select')).toHaveValue('dpo');
  const preview = page.getByTestId('dataset-preview');
  await expect(preview.locator('th', { hasText: 'Rejected' })).toBeVisible();
  await expect(preview.locator('tbody tr').first()).toContainText('kfs');
  await expect(preview.locator('tbody tr').first()).toContainText('ksf');
  await expect(page.getByTestId('hist-rejected')).toBeVisible();
  await shoot(page, 'dataset-panel', 'dpo-demo-dataset');
  await setSetting(page, 'max_steps', '2');
  await setSetting(page, 'eval_max_samples', '4');
  await page.getByRole('button', { name: 'Start', exact: true }).click();
  await finish(page);
  await expect(page.getByTestId('chart-pref-accuracy')).toHaveAttribute('data-points', '2');
  // back to the main demo: GRPO again
  await page.getByRole('radio', { name: /Reverse 3 letters/ }).check();
  await expect(page.locator('[data-field="algorithm"] select')).toHaveValue('grpo');
  expect(errors).toEqual([]);
});

test('online DPO on the main demo: rollouts scored by its reward, best against worst of each group, charts', async ({ page }) => {
  expect(builtinPresent(), 'the built-in model is not in public/models/tiny-puzzles/ (scripts/pretrain.ts makes it)').toBe(true);
  const errors = collectErrors(page);
  await openPlayground(page);
  await expect(page.getByTestId('model-status')).toHaveAttribute('data-state', 'ready', { timeout: 60_000 });
  await expect(page.getByTestId('dataset-status')).toHaveAttribute('data-state', 'ready', { timeout: 30_000 });
  await setSetting(page, 'algorithm', 'online_dpo');
  await setSetting(page, 'beta', '0.1');
  await setSetting(page, 'max_steps', '3');
  await setSetting(page, 'eval_max_samples', '4');
  await page.getByRole('button', { name: 'Start', exact: true }).click();
  await finish(page);
  await expect(page.getByTestId('run-step')).toHaveText('3');
  // the rollouts' reward, and the DPO pairs' log-probs and implicit rewards
  await expect(page.getByTestId('chart-reward')).toHaveAttribute('data-points', '3');
  await expect(page.getByTestId('chart-pref-logps')).toHaveAttribute('data-points', '3');
  const rows = await metricsJsonl(page);
  expect(rows.map((r) => r.step)).toEqual([1, 2, 3]);
  for (const r of rows) {
    expect(Number.isFinite(r.reward), JSON.stringify(r)).toBe(true);
    expect(Number.isFinite(r['logps/chosen']) && Number.isFinite(r['logps/rejected']), JSON.stringify(r)).toBe(true);
  }
  await shoot(page, 'charts-panel', 'online-dpo-charts');
  expect(errors).toEqual([]);
});
