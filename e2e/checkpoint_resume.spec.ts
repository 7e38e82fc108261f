// A run is checkpointed in the browser (IndexedDB): train stories260K uninterrupted for reference, then
// train the same run again and reload the page after its step-3 checkpoint. The page offers "Resume run
// from step 3"; Resume asks for the model files again (refusing the wrong ones), reloads the dataset from
// the browser, restores the checkpoint, redraws the history and continues: the step counter goes on from
// 3, and every step's metrics equal the uninterrupted run's.
import { expect, test, type Page } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { chooseFiles, collectErrors, loadStories, openPlayground, screenshot, setSetting, shoot, STORIES, uploadDataset } from './helpers/playground';

const MAX_STEPS = 6;
const INTERVAL = 3;
/** metrics that do not depend on timing */
const DETERMINISTIC = ['reward', 'reward_std', 'loss', 'kl', 'entropy', 'grad_norm', 'learning_rate', 'num_tokens', 'completions/mean_length'];

async function metricsJsonl(page: Page): Promise<Record<string, number>[]> {
  await page.getByRole('tab', { name: 'Export' }).click();
  const wait = page.waitForEvent('download');
  await page.getByTestId('export').getByRole('button', { name: 'metrics.jsonl', exact: true }).click();
  const text = readFileSync(await (await wait).path(), 'utf8');
  return text.trim().split('\n').map((l) => JSON.parse(l) as Record<string, number>);
}

// "the": some completions contain it and some do not, so the adapter moves (a wrongly restored one would show)
const ROWS = ['Once upon a time', 'The little dog', 'One day, Lily', 'Tom had a big', 'The cat sat on', 'A bird flew to', 'Sam ran to', 'Mia saw a']
  .map((prompt) => JSON.stringify({ prompt, answer: 'the' }))
  .join('\n');

const pick = (rows: Record<string, number>[]): Record<string, number>[] => rows.map((r) => ({ step: r.step, ...Object.fromEntries(DETERMINISTIC.map((k) => [k, r[k]])) }));

test('a run reloaded after its step-3 checkpoint resumes to the metrics of an uninterrupted run', async ({ page }) => {
  const errors = collectErrors(page);
  await openPlayground(page);
  await loadStories(page);
  await uploadDataset(page, 'stories.jsonl', ROWS);
  await page.locator('[data-testid=reward-card] select').first().selectOption('contains');
  await setSetting(page, 'max_steps', String(MAX_STEPS));
  await setSetting(page, 'num_generations', '4');
  await setSetting(page, 'max_completion_length', '8');
  await setSetting(page, 'lora_r', '4');
  await setSetting(page, 'lora_alpha', '8');
  await setSetting(page, 'eval_split', '0');
  await setSetting(page, 'checkpoint_interval', String(INTERVAL));

  // the uninterrupted run, for reference
  await page.getByRole('button', { name: 'Start', exact: true }).click();
  await expect(page.getByTestId('run-status')).toHaveText('Finished', { timeout: 300_000 });
  await expect(page.getByTestId('run-checkpoint')).toHaveAttribute('data-step', String(MAX_STEPS));
  const reference = pick(await metricsJsonl(page));
  expect(reference.map((r) => r.step)).toEqual([1, 2, 3, 4, 5, 6]);
  expect(reference.filter((r) => r.grad_norm > 0).length).toBeGreaterThan(2);
  expect(reference.some((r) => r.reward > 0)).toBe(true);

  // the same run again, cut short by a reload once its step-3 checkpoint is stored (waitFor reacts at once,
  // where expect's polling may wait a second, long enough on a fast machine to pass the next checkpoint)
  await page.getByRole('button', { name: 'Start new run', exact: true }).click();
  await page.locator(`[data-testid=run-checkpoint][data-step="${INTERVAL}"][data-stored=true]`).waitFor({ timeout: 300_000 });
  await page.reload();
  await expect(page.getByTestId('gpu-chip')).toHaveAttribute('data-ready', 'true', { timeout: 60_000 });

  const banner = page.getByTestId('resume-banner');
  await expect(banner).toBeVisible({ timeout: 30_000 });
  await expect(banner.getByRole('heading')).toHaveText(`Resume run from step ${INTERVAL} of ${MAX_STEPS}?`);
  await expect(page.getByTestId('resume-details')).toContainText('stories260K (files stories260K.bin, tok512.bin)');
  await expect(page.getByTestId('resume-details')).toContainText('dataset stories.jsonl, saved at');
  await screenshot(page, 'resume-offered');
  await expect(page.getByTestId('run-step')).toHaveText('0');

  // the model came from disk: Resume asks for its files again, and refuses the wrong ones
  await banner.getByRole('button', { name: 'Resume', exact: true }).click();
  await expect(banner).toHaveAttribute('data-phase', 'model-files');
  await chooseFiles(page, 'resume-model-drop', [`${STORIES}stories260K.bin`]);
  await expect(page.getByTestId('resume-error')).toContainText('tok512.bin is missing');
  await shoot(page, 'resume-banner', 'resume-wrong-files');
  await chooseFiles(page, 'resume-model-drop', [`${STORIES}stories260K.bin`, `${STORIES}tok512.bin`]);

  // restored: the banner goes, the history is drawn, and the counter continues from 3
  await expect(banner).toBeHidden({ timeout: 120_000 });
  await expect(page.getByTestId('run-log')).toContainText(`Resumed the run saved at step ${INTERVAL}`);
  await expect(page.getByTestId('model-name')).toHaveText('stories260K');
  await expect(page.getByTestId('dataset-status')).toHaveAttribute('data-state', 'ready');
  await expect(page.locator('[data-field="checkpoint_interval"] input')).toHaveValue(String(INTERVAL));
  await expect(page.getByTestId('run-step')).toHaveText(/^[3-6]$/);
  await expect(page.getByTestId('run-step')).toHaveText(String(INTERVAL + 1), { timeout: 300_000 });
  await screenshot(page, 'resume-continued');
  await expect(page.getByTestId('run-status')).toHaveText('Finished', { timeout: 300_000 });
  await expect(page.getByTestId('run-step')).toHaveText(String(MAX_STEPS));

  // steps 1-3 came back from the checkpoint, 4-6 were trained after the reload: all equal the reference
  const resumed = pick(await metricsJsonl(page));
  expect(resumed.map((r) => r.step)).toEqual([1, 2, 3, 4, 5, 6]);
  expect(resumed).toEqual(reference);
  await screenshot(page, 'resume-finished');
  expect(errors.filter((e) => !/tiny-arith|models\/|datasets\//.test(e))).toEqual([]);
});
