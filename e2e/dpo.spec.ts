// DPO in the page: stories260K, a preference file (prompt / chosen / rejected, one bad row), the algorithm
// chosen in the settings (the file is read again as pairs), the preview with chosen and rejected, a short
// run, and the charts of chosen vs rejected log-probs, implicit rewards and pair accuracy.
import { expect, test } from '@playwright/test';
import { collectErrors, loadStories, openPlayground, setSetting, shoot, uploadDataset } from './helpers/playground';

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
