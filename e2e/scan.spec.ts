// Which prompts to train on (issue 29): with the built-in model and the Reverse demo, a curriculum that needs
// a difficulty scan is refused until there is one; "Scan difficulty" (small k) draws the pass-rate histogram,
// the band "0 < p < 1" sets pass_rate_band and says how many prompts it keeps, and a run with curriculum
// easy_to_hard trains on the kept prompts (its run log names them). The scan is kept in this browser: after a
// reload it is back without scanning again, and it downloads as JSONL that uploads again.
import { expect, test } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { builtinPresent, collectErrors, openPlayground, setSetting, shoot } from './helpers/playground';

test('difficulty scan, pass-rate band and easy_to_hard curriculum in the page', async ({ page }) => {
  expect(builtinPresent(), 'the built-in model is not in public/models/tiny-puzzles/').toBe(true);
  const errors = collectErrors(page);
  await openPlayground(page);
  await expect(page.getByTestId('model-status')).toHaveAttribute('data-state', 'ready', { timeout: 60_000 });
  await expect(page.getByTestId('dataset-status')).toHaveAttribute('data-state', 'ready', { timeout: 30_000 });
  const rows = Number((readFileSync('public/datasets/reverse.jsonl', 'utf8').match(/\n/g) ?? []).length);

  // a short run: two steps
  await setSetting(page, 'max_steps', '2');
  await setSetting(page, 'curriculum', 'easy_to_hard');
  await page.getByRole('button', { name: 'Start', exact: true }).click();
  await expect(page.getByTestId('run-log')).toContainText('curriculum "easy_to_hard" needs a difficulty scan', { timeout: 60_000 });

  // the scan: k = 2 completions per prompt at the training temperature
  const scan = page.getByTestId('difficulty-scan');
  await scan.getByTestId('scan-k').fill('2');
  await scan.getByTestId('scan-run').click();
  await expect(scan).toHaveAttribute('data-state', 'scanning');
  await expect(scan.getByTestId('scan-progress')).toContainText(/of \d+ completions sampled/, { timeout: 60_000 });
  await expect(scan).toHaveAttribute('data-state', 'ready', { timeout: 300_000 });
  await expect(scan.getByTestId('hist-pass-rate').locator('.recharts-bar-rectangle').first()).toBeVisible();
  await expect(scan.getByTestId('scan-counts')).toContainText(`${rows} prompts scanned`);
  await expect(scan.getByTestId('scan-source')).toContainText('k = 2');

  // the band 0 < p < 1
  await scan.getByLabel('0 < p < 1').check();
  const keptText = await scan.getByTestId('band-kept').textContent();
  const m = /keeps (\d+) of (\d+) prompts/.exec(keptText ?? '');
  expect(m, keptText ?? '').not.toBeNull();
  const kept = Number(m![1]);
  expect(Number(m![2])).toBe(rows);
  expect(kept).toBeGreaterThan(0);
  expect(kept).toBeLessThan(rows);
  await expect(page.locator('[data-field="pass_rate_band"] textarea')).toHaveValue('(0, 1)');
  await page.mouse.move(0, 0); // no tooltip over the bars
  await shoot(page, 'difficulty-scan', 'scan-data-panel');

  // the download is the scan's JSONL, one record per prompt
  const download = page.waitForEvent('download');
  await scan.getByTestId('scan-download').click();
  const file = await (await download).path();
  const lines = readFileSync(file, 'utf8').trim().split('\n');
  expect(lines.length).toBe(rows);
  expect(JSON.parse(lines[0])).toMatchObject({ k: 2 });

  // the run trains on the kept prompts (the eval split is held out first): the run log says how many
  await page.getByRole('button', { name: 'Start new run', exact: true }).click();
  await expect(page.getByTestId('run-log')).toContainText(/\d+ of \d+ training prompts kept \(pass rate in \(0, 1\)/, { timeout: 60_000 });
  const logText = (await page.getByTestId('run-log').textContent()) ?? '';
  const k2 = /(\d+) of (\d+) training prompts kept/.exec(logText)!;
  expect(Number(k2[1])).toBeLessThanOrEqual(kept);
  expect(Number(k2[1])).toBeGreaterThan(0);
  await expect(page.getByTestId('run-status')).toHaveText(/Finished/, { timeout: 240_000 });
  expect(Number(await page.getByTestId('run-step').textContent())).toBe(2);
  // the run's groups by pass rate (the pass-rate histogram over time, three bins): a chart of its own
  await expect(page.getByTestId('chart-pass-rate-bins')).toHaveAttribute('data-points', '2');
  await page.getByTestId('chart-pass-rate-bins').screenshot({ path: 'test-results/scan-pass-rate-chart.png' });

  // a reload finds the stored scan: no second scan
  await openPlayground(page);
  await expect(page.getByTestId('dataset-status')).toHaveAttribute('data-state', 'ready', { timeout: 60_000 });
  await expect(page.getByTestId('difficulty-scan')).toHaveAttribute('data-state', 'ready', { timeout: 60_000 });
  await expect(page.getByTestId('scan-counts')).toContainText(`${rows} prompts scanned`);

  // a hostile scan file is refused with its line and field
  const chooser = page.waitForEvent('filechooser');
  await page.getByTestId('scan-drop').getByText(/^Choose files?…$/).click();
  await (await chooser).setFiles({ name: 'bad.scan.jsonl', mimeType: 'application/jsonl', buffer: Buffer.from('{"key":"0123456789abcdef","k":2,"pass_rate":3,"reward_mean":0}\n') });
  await expect(page.getByTestId('scan-error')).toContainText('bad.scan.jsonl line 1: field "pass_rate" must be a number in [0, 1]');
  expect(errors).toEqual([]);
});
