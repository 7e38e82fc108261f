// Settings and rewards: invalid values are flagged at their field with the reason and keep Start disabled;
// presets set the loss fields; help text comes from the config's docs; a custom JavaScript reward is tried
// on five rows, each showing its output or its error.
import { expect, test } from '@playwright/test';
import { collectErrors, openPlayground, setSetting, shoot, uploadDataset } from './helpers/playground';

test('inline validation, presets, and a custom reward tried on 5 rows', async ({ page }) => {
  const errors = collectErrors(page);
  await openPlayground(page);
  const rows = ['2+2=|4', '3+5=|8', '10+1=|11', '7+7=|14', '1+1=|2', '9+9=|18'].map((r) => {
    const [prompt, answer] = r.split('|');
    return JSON.stringify({ prompt, answer, level: prompt.length });
  });
  await uploadDataset(page, 'sums.jsonl', rows.join('\n'));

  // an invalid value: flagged at the field with validateConfig's reason
  await setSetting(page, 'num_generations', '1');
  const field = page.locator('[data-field="num_generations"]');
  await expect(field.getByRole('alert')).toContainText('num_generations must be at least 2');
  await expect(field.locator('input')).toHaveAttribute('aria-invalid', 'true');
  await expect(page.getByTestId('settings-problems')).toBeVisible();
  await expect(page.getByRole('button', { name: 'Start', exact: true })).toBeDisabled();
  await setSetting(page, 'num_generations', 'abc');
  await expect(field.getByRole('alert')).toContainText('num_generations');
  await setSetting(page, 'num_generations', '4');
  await expect(field.getByRole('alert')).toHaveCount(0);
  // a cross-field check lands on its field, inside a folded group that opens
  await setSetting(page, 'epsilon_high', '0.1');
  await expect(page.locator('[data-field="epsilon_high"]').getByRole('alert')).toContainText('smaller than epsilon');
  await setSetting(page, 'epsilon_high', '0.2');
  // help text from the docs, with the default and the source
  await expect(page.locator('[data-field="beta"]')).toContainText('KL penalty');
  await expect(page.locator('[data-field="beta"]')).toContainText('Default 0.');

  // presets
  await page.getByRole('button', { name: 'Dr. GRPO' }).click();
  await expect(page.getByRole('button', { name: 'Dr. GRPO' })).toHaveAttribute('aria-pressed', 'true');
  await expect(page.locator('[data-field="loss_type"] select')).toHaveValue('dr_grpo');
  await expect(page.locator('[data-field="scale_rewards"] select')).toHaveValue('none');
  await page.getByRole('button', { name: 'DAPO' }).click();
  await expect(page.locator('[data-field="epsilon_high"] input')).toHaveValue('0.28');

  // advice that does not block (keyed to loss_type): GSPO's sequence-level ratio with the dapo loss
  await setSetting(page, 'importance_sampling_level', 'sequence');
  await expect(page.locator('[data-field="loss_type"] .field-warnings')).toContainText('GSPO uses loss_type "grpo"');
  await expect(page.getByTestId('settings-problems')).toHaveCount(0);
  // a nullable number (delta): off until set; a cross-field error lands on it
  const delta = page.locator('[data-field="delta"]');
  await expect(delta.locator('.field-control')).toContainText('none');
  await delta.getByRole('checkbox').check();
  await expect(delta.locator('input.num-input')).toHaveValue('4');
  await delta.locator('input.num-input').fill('1.1');
  await expect(delta.getByRole('alert')).toContainText('set delta above 1.28');
  await expect(page.getByTestId('settings-problems')).toBeVisible();
  await shoot(page, 'settings-panel', 'settings-new-fields');
  await delta.getByRole('checkbox').uncheck();
  await expect(delta.getByRole('alert')).toHaveCount(0);
  await setSetting(page, 'importance_sampling_level', 'token');
  await expect(page.locator('[data-field="loss_type"] .field-warnings')).toHaveCount(0);

  // a custom reward: add it, write code that fails on some rows, try it
  await page.locator('#add-reward').selectOption('custom');
  await page.getByRole('button', { name: 'Add reward' }).click();
  const source = page.getByTestId('custom-source');
  await source.fill('(prompt, completion, answer, row) => { if (row.level > 4) throw new Error("too long: " + prompt); return Number(completion) % 2 === 0 ? 1 : 0; }');
  await page.getByRole('button', { name: 'Try on 5 rows' }).click();
  const results = page.getByTestId('custom-try-results');
  await expect(results.locator('tbody tr')).toHaveCount(5);
  await expect(results.locator('tbody tr').nth(0)).toContainText('1'); // 4 is even
  await expect(results.locator('tbody tr').nth(2)).toContainText('too long: 10+1=');
  await expect(results.locator('tbody tr').nth(4)).toContainText('1');
  await shoot(page, 'rewards-panel', 'rewards-custom');
  // a syntax error is reported for the whole batch, and keeps Start disabled
  await source.fill('(prompt) => {');
  await expect(page.getByRole('button', { name: 'Start', exact: true })).toBeDisabled();
  await page.getByRole('button', { name: 'Try on 5 rows' }).click();
  await expect(results.getByRole('alert')).toContainText('does not compile');
  await shoot(page, 'settings-panel', 'settings');
  expect(errors.filter((e) => !/tiny-puzzles|models\/|datasets\//.test(e))).toEqual([]);
});
