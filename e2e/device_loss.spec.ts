// The GPU device is lost mid-run (forced with the worker's debugLoseDevice request, which destroys the
// device as a driver reset would): the page says what happened, the worker takes a new device, uploads the
// model again and resumes from the last checkpoint by itself; the message stays in the run log and the
// run ends with every step once.
import { expect, test } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { collectErrors, loadStories, openPlayground, screenshot, setSetting, shoot, STORY_ROWS, uploadDataset } from './helpers/playground';

type Engine = { call(request: { type: string }): Promise<unknown> };

test('a lost GPU device is replaced and the run resumes from its last checkpoint', async ({ page }) => {
  const errors = collectErrors(page);
  await openPlayground(page);
  await loadStories(page);
  await uploadDataset(page, 'stories.jsonl', STORY_ROWS);
  await page.locator('[data-testid=reward-card] select').first().selectOption('contains');
  await setSetting(page, 'max_steps', '5');
  await setSetting(page, 'num_generations', '4');
  await setSetting(page, 'max_completion_length', '8');
  await setSetting(page, 'lora_r', '4');
  await setSetting(page, 'lora_alpha', '8');
  await setSetting(page, 'eval_split', '0');
  await setSetting(page, 'checkpoint_interval', '2');
  await page.getByRole('button', { name: 'Start', exact: true }).click();
  // waitFor reacts at once (expect's polling may wait a second): the device goes during step 3
  await page.locator('[data-testid=run-checkpoint][data-step="2"]').waitFor({ timeout: 300_000 });

  const destroyed = await page.evaluate(() => (window as unknown as { grpoEngine: Engine }).grpoEngine.call({ type: 'debugLoseDevice' }));
  expect(destroyed).toBe(true);
  const log = page.getByTestId('run-log');
  await expect(log).toContainText('The GPU device was lost', { timeout: 120_000 });
  await expect(log.locator('li[data-level=error]')).toContainText('Getting a new device and resuming from the last checkpoint');
  // (step 2's checkpoint; step 4's should the machine be fast enough to pass it first)
  await expect(log).toContainText(/A new GPU device was acquired, the model uploaded again and the run resumed from the checkpoint of step [24]/, { timeout: 120_000 });
  await expect(page.getByTestId('run-status')).toHaveText(/^(Training|Finished)$/);
  await shoot(page, 'run-bar', 'device-loss-recovered');

  await expect(page.getByTestId('run-status')).toHaveText('Finished', { timeout: 300_000 });
  await expect(page.getByTestId('run-step')).toHaveText('5');
  // the message stays, and the page does not ask for a reload
  await expect(log).toContainText('The GPU device was lost');
  await expect(page.getByTestId('device-lost')).toHaveCount(0);
  await expect(page.getByTestId('gpu-chip')).not.toContainText('GPU lost');
  await screenshot(page, 'device-loss-finished');

  // every step once, in order (the steps after the checkpoint were redone, not appended twice)
  await page.getByRole('tab', { name: 'Export' }).click();
  const wait = page.waitForEvent('download');
  await page.getByTestId('export').getByRole('button', { name: 'metrics.jsonl', exact: true }).click();
  const rows = readFileSync(await (await wait).path(), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { step: number });
  expect(rows.map((r) => r.step)).toEqual([1, 2, 3, 4, 5]);
  // the adapter is on the new device: Try it compares base and tuned
  await page.getByRole('tab', { name: 'Try it' }).click();
  await page.getByLabel('Prompt', { exact: true }).fill('Once upon a time');
  await page.getByRole('button', { name: 'Generate' }).click();
  await expect(page.getByTestId('tryit-tuned')).toContainText('Tuned (step 5)', { timeout: 60_000 });
  expect(errors.filter((e) => !/tiny-arith|models\/|datasets\//.test(e))).toEqual([]);
});
