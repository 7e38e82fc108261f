// The memory plan before Start: with the built-in model loaded, the model panel shows the exact plan of one
// step (weights, KV cache, activations, LoRA + Adam, peak against the budget, largest buffer); a budget too
// small for the run shows the refusal with what to lower, and Start is refused by the worker with the plan
// before anything is allocated.
import { expect, test } from '@playwright/test';
import { builtinPresent, collectErrors, openPlayground, setSetting, shoot } from './helpers/playground';

test('the model panel shows the memory plan and a budget that cannot fit', async ({ page }) => {
  expect(builtinPresent(), 'the built-in model is not in public/models/tiny-puzzles/ (scripts/pretrain.ts makes it)').toBe(true);
  const errors = collectErrors(page);
  await openPlayground(page);
  await expect(page.getByTestId('model-status')).toHaveAttribute('data-state', 'ready', { timeout: 60_000 });
  const plan = page.getByTestId('memory-plan');
  await expect(plan).toBeVisible({ timeout: 30_000 });
  await expect(page.getByTestId('memory-plan-peak')).toContainText('of 2.00 GiB budget');
  await expect(plan).toContainText('Weights (f32)');
  await shoot(page, 'memory-plan', 'memory-plan');
  await setSetting(page, 'memory_budget_bytes', '1000');
  await expect(page.getByTestId('memory-plan-refusal')).toContainText('does not fit', { timeout: 30_000 });
  await page.getByRole('button', { name: 'Start', exact: true }).click();
  await expect(page.getByTestId('run-error')).toContainText('does not fit the GPU memory budget', { timeout: 60_000 });
  await expect(page.getByTestId('run-error')).toContainText('max_completion_length');
  await shoot(page, 'run-error', 'memory-plan-refused');
  expect(errors).toEqual([]);
});
