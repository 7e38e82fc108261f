// Untrusted model files in the page: a folder whose chat template loops (range(100000000)) is refused with
// a message naming tokenizer_config.json within seconds (the load probe's worker, nested in the engine
// worker, is stopped at its time limit), and the page stays usable: the real folder loads afterwards.
import { copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { BUILTIN_DIR, builtinPresent, openPlayground, screenshot } from './helpers/playground';

test('a model folder with a looping chat template is refused, naming the file; the page stays usable', async ({ page }) => {
  test.setTimeout(120_000);
  expect(builtinPresent()).toBe(true);
  const dir = join(mkdtempSync(join(tmpdir(), 'untrusted-')), 'looping-template');
  mkdirSync(dir);
  for (const f of ['config.json', 'tokenizer.json', 'model.safetensors']) copyFileSync(join(BUILTIN_DIR, f), join(dir, f));
  writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify({ chat_template: '{% for i in range(100000000) %}x{% endfor %}' }));

  await openPlayground(page, '?autoload=0');
  await page.getByText('From disk', { exact: true }).click();
  let chooser = page.waitForEvent('filechooser');
  await page.getByTestId('model-drop').getByText('Choose folder…').click();
  await (await chooser).setFiles(dir);
  await expect(page.getByTestId('model-error')).toContainText('looping-template/tokenizer_config.json: the chat template', { timeout: 60_000 });
  await expect(page.getByTestId('model-error')).toContainText('was stopped');
  await screenshot(page, 'untrusted-looping-template');

  chooser = page.waitForEvent('filechooser');
  await page.getByTestId('model-drop').getByText('Choose folder…').click();
  await (await chooser).setFiles(BUILTIN_DIR.replace(/\/$/, ''));
  await expect(page.getByTestId('model-status')).toHaveAttribute('data-state', 'ready', { timeout: 60_000 });
});
