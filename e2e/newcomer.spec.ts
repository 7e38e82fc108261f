// The newcomer's flow: the page opens with the built-in model, the main demo dataset and the demo config
// already chosen, so pressing Start is all it takes. At least five steps later the charts have points and
// the rollouts show the model's completions; the page stays responsive; Stop ends the run.
import { expect, test } from '@playwright/test';
import { builtinPresent, collectErrors, openPlayground, screenshot, shoot } from './helpers/playground';

test('Start → five steps → charts and rollouts → Stop, with the built-in model', async ({ page }) => {
  expect(builtinPresent(), 'the built-in model is not in public/models/tiny-puzzles/ (scripts/pretrain.ts makes it)').toBe(true);
  const errors = collectErrors(page);
  await openPlayground(page);

  // everything is chosen already
  await expect(page.getByTestId('model-status')).toHaveAttribute('data-state', 'ready', { timeout: 60_000 });
  await expect(page.getByTestId('model-name')).toHaveText('tiny-puzzles');
  await expect(page.getByTestId('dataset-status')).toHaveAttribute('data-state', 'ready', { timeout: 30_000 });
  await expect(page.getByRole('radio', { name: /Reverse 3 letters/ })).toBeChecked();
  await expect(page.getByTestId('hist-prompt')).toBeVisible();
  await expect(page.getByTestId('settings-problems')).toHaveCount(0);
  await screenshot(page, 'newcomer-start');
  await screenshot(page, 'newcomer-start-1920', 1920);
  await page.setViewportSize({ width: 1280, height: 900 });

  const start = page.getByRole('button', { name: 'Start', exact: true });
  await expect(start).toBeEnabled();
  await start.click();
  await expect(page.getByTestId('run-status')).toHaveText('Training');

  // the page answers while the worker trains: tabs switch and typing lands during the run
  await page.getByRole('tab', { name: 'Try it' }).click();
  await page.getByLabel('Prompt', { exact: true }).fill('rev abc=');
  await expect(page.getByLabel('Prompt', { exact: true })).toHaveValue('rev abc=');
  await expect(page.getByText('Pause the run to try the model')).toBeVisible();
  await page.getByRole('tab', { name: 'Rollouts' }).click();
  await expect(page.getByTestId('run-status')).toHaveText('Training');

  // five steps, or the run's error as the failure message
  await expect
    .poll(
      async () => {
        if (await page.getByTestId('run-error').count()) return `the run stopped: ${await page.getByTestId('run-error').textContent()}`;
        return Number(await page.getByTestId('run-step').textContent()) >= 5 ? 'five steps' : 'training';
      },
      { timeout: 240_000 },
    )
    .toBe('five steps');
  await page.getByTestId('rollout-search').fill('rev');
  await expect(page.getByTestId('rollout-search')).toHaveValue('rev');
  await page.getByTestId('rollout-search').fill('');

  // charts have points: one per step, drawn as lines
  const reward = page.getByTestId('chart-reward');
  expect(Number(await reward.getAttribute('data-points'))).toBeGreaterThanOrEqual(5);
  await expect(reward.locator('path.recharts-line-curve').first()).toHaveAttribute('d', /^M[\d.]+,[\d.]+L/);
  for (const id of ['reward-funcs', 'loss', 'entropy', 'length', 'grad-norm', 'lr', 'throughput']) {
    expect(Number(await page.getByTestId(`chart-${id}`).getAttribute('data-points')), id).toBeGreaterThanOrEqual(5);
  }
  expect(Number(await page.getByTestId('chart-eval').getAttribute('data-points'))).toBeGreaterThanOrEqual(1);

  // the rollouts show the prompts with their G completions, rewards and advantages
  const groups = page.getByTestId('rollout-group');
  await expect(groups.first()).toBeVisible();
  const g = Number(await page.locator('[data-field="num_generations"] input').inputValue());
  await expect(groups.first().getByTestId('completion')).toHaveCount(g);
  await expect(groups.first()).toContainText('exact_match');
  await expect(groups.first()).toContainText('Advantage');

  await screenshot(page, 'newcomer-training');
  await shoot(page, 'charts-panel', 'newcomer-charts');
  await shoot(page, 'results-tabs', 'newcomer-rollouts');
  await screenshot(page, 'newcomer-training-1920', 1920);

  await page.getByRole('button', { name: 'Stop' }).click();
  await expect(page.getByTestId('run-status')).toHaveText('Stopped', { timeout: 120_000 });
  const steps = Number(await page.getByTestId('run-step').textContent());
  expect(steps).toBeGreaterThanOrEqual(5);
  expect(Number(await reward.getAttribute('data-points'))).toBe(steps);
  expect(errors).toEqual([]);
});
