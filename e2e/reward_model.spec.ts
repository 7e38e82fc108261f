// Reward models in the page: stories260K trains a reward model (algorithm reward_model) on preference pairs,
// its pair accuracy and rewards are charted and its SEQ_CLS adapter is kept in the runs library; then a GRPO run
// on prompts scores its completions with that saved run's reward model (a reward_model entry naming the run) beside
// a rule reward, both charted in "Reward by function".
import { expect, test } from '@playwright/test';
import { collectErrors, loadStories, openPlayground, screenshot, setSetting, shoot, uploadDataset } from './helpers/playground';

const PROMPTS = ['Once upon a time', 'The little dog', 'One day, Lily', 'Tom had a big', 'The cat sat on', 'A bird flew to', 'Sam ran to', 'Mia saw a'];
const PAIRS = PROMPTS.map((prompt) => JSON.stringify({ prompt, chosen: ' dog', rejected: ' cat' })).join('\n');
const QA = PROMPTS.map((prompt) => JSON.stringify({ prompt, answer: 'dog' })).join('\n');

/** Waits for the run to end; a run stopped by an error fails the test with the page's message. (Called only once the
 * run under test has begun: the status of the run before it also reads "Finished".) */
async function finish(page: import('@playwright/test').Page): Promise<void> {
  const status = page.getByTestId('run-status');
  await expect(status).toHaveText(/^(Finished|Stopped by an error)$/, { timeout: 300_000 });
  if ((await status.textContent()) === 'Stopped by an error') {
    throw new Error(`the run failed: ${await page.getByTestId('run-error').textContent({ timeout: 5_000 }).catch(() => '(no message shown)')}`);
  }
}

test('a reward model trained in the page scores a GRPO run beside a rule reward', async ({ page }) => {
  test.setTimeout(12 * 60_000);
  const errors = collectErrors(page);
  await openPlayground(page);
  await loadStories(page);

  // 1. the reward model: preference pairs, algorithm reward_model
  await setSetting(page, 'algorithm', 'reward_model');
  await uploadDataset(page, 'pairs.jsonl', PAIRS);
  await expect(page.getByTestId('dataset-status')).toHaveAttribute('data-state', 'ready');
  await setSetting(page, 'max_steps', '4');
  await setSetting(page, 'prompts_per_step', '2');
  await setSetting(page, 'max_completion_length', '8');
  await setSetting(page, 'learning_rate', '0.01');
  await setSetting(page, 'lora_r', '4');
  await setSetting(page, 'lora_alpha', '8');
  await setSetting(page, 'eval_split', '0.25');
  await setSetting(page, 'center_rewards_coefficient', '0.01');
  await page.getByRole('button', { name: 'Start', exact: true }).click();
  await finish(page);
  await expect(page.getByTestId('chart-rm-accuracy')).toHaveAttribute('data-points', '4');
  await expect(page.getByTestId('chart-rm-rewards')).toContainText('mean_reward');
  // no rollouts: no reward or preference log-prob charts
  await expect(page.getByTestId('chart-reward')).toHaveCount(0);
  await expect(page.getByTestId('chart-pref-logps')).toHaveCount(0);
  await shoot(page, 'charts-panel', 'reward-model-charts');

  // kept in the runs library with its adapter (the SEQ_CLS reward adapter)
  const row = page.getByTestId('runs-row').first();
  await expect.poll(async () => (await row.getByRole('button', { name: 'Export' }).getAttribute('title')) ?? '', { timeout: 30_000 }).toContain('with its adapter');
  const name = (await row.getAttribute('data-run-name'))!;
  expect(name).toBeTruthy();
  const adapter = await page.evaluate(
    (id) =>
      new Promise<string>((resolve) => {
        const req = indexedDB.open('grpo-playground-library');
        req.onsuccess = () => {
          const get = req.result.transaction('adapters').objectStore('adapters').get(id);
          get.onsuccess = () => resolve(get.result?.config ?? '');
        };
      }),
    (await row.getAttribute('data-run-id'))!,
  );
  expect(JSON.parse(adapter)).toMatchObject({ task_type: 'SEQ_CLS', modules_to_save: ['score'] });

  // 2. GRPO on prompts, rewarded by the rule "contains" and by the saved reward model
  await setSetting(page, 'algorithm', 'grpo');
  await uploadDataset(page, 'prompts.jsonl', QA);
  await expect(page.getByTestId('dataset-status')).toHaveAttribute('data-state', 'ready');
  const cards = page.getByTestId('reward-card');
  await cards.first().locator('select').first().selectOption('contains');
  await page.locator('#add-reward').selectOption('reward_model');
  await page.getByRole('button', { name: 'Add reward', exact: true }).click();
  await expect(cards).toHaveCount(2);
  const rm = cards.nth(1);
  await expect(rm.getByTestId('saved-reward-models')).toContainText(name);
  await rm.locator('#reward-1-adapters').fill(name);
  await shoot(page, 'rewards-panel', 'reward-model-rewards-panel');
  await setSetting(page, 'max_steps', '2');
  await setSetting(page, 'num_generations', '4');
  await setSetting(page, 'prompts_per_step', '2');
  await setSetting(page, 'max_completion_length', '8');
  await setSetting(page, 'eval_split', '0');
  // after a finished run the button starts a new one
  await page.getByRole('button', { name: 'Start new run', exact: true }).click();
  // the saved reward model goes to the worker before the run begins (the page says "Starting…" meanwhile): once the
  // log names it, "Finished" is this run's, not the last one's
  await expect(page.getByTestId('run-log')).toContainText(`Reward model: ${name}`, { timeout: 60_000 });
  await finish(page);
  const funcs = page.getByTestId('chart-reward-funcs');
  await expect(funcs).toHaveAttribute('data-points', '2');
  await expect(funcs).toContainText('reward_model');
  await expect(funcs).toContainText('contains');
  await shoot(page, 'charts-panel', 'reward-model-grpo-charts');
  await screenshot(page, 'reward-model-grpo');
  expect(errors).toEqual([]);
});
