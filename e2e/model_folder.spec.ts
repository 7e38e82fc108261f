// A Hugging Face folder (the built-in model's) loaded through the folder picker.
import { expect, test } from '@playwright/test';
import { BUILTIN_DIR, builtinPresent, collectErrors, openPlayground } from './helpers/playground';

test('a Hugging Face folder through "Choose folder…"', async ({ page }) => {
  expect(builtinPresent(), 'the built-in model is not in public/models/tiny-puzzles/ (scripts/pretrain.ts makes it)').toBe(true);
  const errors = collectErrors(page);
  await openPlayground(page, '?autoload=0');
  await page.getByText('From disk', { exact: true }).click();
  const chooser = page.waitForEvent('filechooser');
  await page.getByTestId('model-drop').getByText('Choose folder…').click();
  // the built-in model's folder: config.json, model.safetensors, tokenizer.json
  await (await chooser).setFiles(BUILTIN_DIR.replace(/\/$/, ''));
  await expect(page.getByTestId('model-status')).toHaveAttribute('data-state', 'ready', { timeout: 60_000 });
  await expect(page.getByTestId('model-name')).toHaveText('tiny-puzzles');
  await expect(page.getByTestId('model-status')).toContainText('LlamaForCausalLM');
  expect(errors).toEqual([]);
});
