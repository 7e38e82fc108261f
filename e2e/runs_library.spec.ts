// The runs library in the page: a run with a separate test file and 2 samples per held-out prompt is kept
// (pass@2 and maj@2 among its evaluations, the training-vs-held-out gap drawn); its exported file imports back, a
// damaged one is refused with a message and stores nothing; a second tab cannot start a run while the
// first one trains.
import { expect, test } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chooseFiles, collectErrors, openPlayground, screenshot, setSetting, shoot } from './helpers/playground';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

test('runs are kept with pass@k on a test file, export and import, and one tab trains at a time', async ({ page, context }) => {
  test.setTimeout(10 * 60_000);
  const errors = collectErrors(page);
  await openPlayground(page);
  await expect(page.getByTestId('model-status')).toHaveAttribute('data-state', 'ready', { timeout: 60_000 });
  await expect(page.getByTestId('dataset-status')).toHaveAttribute('data-state', 'ready', { timeout: 30_000 });
  const test6 = readFileSync(`${ROOT}public/datasets/reverse4.jsonl`, 'utf8').trim().split('\n').slice(0, 6).join('\n') + '\n';
  await chooseFiles(page, 'eval-file-drop', { name: 'test4.jsonl', mimeType: 'application/json', buffer: Buffer.from(test6) });
  await expect(page.getByTestId('eval-file')).toContainText('Test file: test4.jsonl (6 rows)');
  await setSetting(page, 'max_steps', '2');
  await setSetting(page, 'num_generations', '4');
  await setSetting(page, 'prompts_per_step', '2');
  const nge = page.locator('[data-field="num_generations_eval"]');
  const group = page.locator('details.group', { has: nge });
  if (!(await group.evaluate((d) => (d as HTMLDetailsElement).open))) await group.locator('summary').click();
  await nge.locator('input[type=checkbox]').check();
  await nge.locator('input.num-input').fill('2');
  await page.getByRole('button', { name: 'Start', exact: true }).click();
  await expect(page.getByTestId('run-status')).toHaveText('Finished', { timeout: 300_000 });
  await expect(page.getByTestId('gap-chart')).toHaveAttribute('data-gap', /^-?\d/);

  const rows = page.getByTestId('runs-row');
  await expect(rows).toHaveCount(1);
  await expect(rows.first()).toContainText('finished');
  await expect(rows.first()).toContainText('reverse.jsonl (test: test4.jsonl)');
  const rec = await page.evaluate(
    () =>
      new Promise<{ evals: { step: number; atK?: Record<string, number> }[]; hasAdapter: boolean }[]>((resolve) => {
        const req = indexedDB.open('grpo-playground-library');
        req.onsuccess = () => {
          const all = req.result.transaction('runs').objectStore('runs').getAll();
          all.onsuccess = () => resolve(all.result);
        };
      }),
  );
  expect(rec[0].evals.map((e) => e.step).sort()).toEqual([0, 2]);
  for (const e of rec[0].evals) expect(Object.keys(e.atK ?? {}).sort()).toEqual(['maj@1', 'maj@2', 'mean@1', 'mean@2', 'pass@1', 'pass@2']);
  await expect.poll(async () => (await page.getByTestId('runs-row').first().getByRole('button', { name: 'Export' }).getAttribute('title')) ?? '', { timeout: 15_000 }).toContain('with its adapter');

  // export, then import a damaged copy (refused, nothing stored) and the file itself (a second row)
  const dl = page.waitForEvent('download');
  await rows.first().getByRole('button', { name: 'Export' }).click();
  const text = readFileSync(await (await dl).path(), 'utf8');
  expect(JSON.parse(text)).toMatchObject({ format: 'grpo-playground-run', version: 1 });
  await chooseFiles(page, 'run-import', { name: 'damaged.grpo-run.json', mimeType: 'application/json', buffer: Buffer.from(text.slice(0, 200)) });
  await expect(page.getByTestId('runs-error')).toContainText('damaged.grpo-run.json is not a run file: it is not JSON');
  await expect(rows).toHaveCount(1);
  await chooseFiles(page, 'run-import', { name: 'copy.grpo-run.json', mimeType: 'application/json', buffer: Buffer.from(text) });
  await expect(rows).toHaveCount(2);
  await shoot(page, 'experiments-panel', 'runs-library');

  // a second tab: refused while the first trains
  await setSetting(page, 'max_steps', '200');
  await page.getByRole('button', { name: 'Start new run', exact: true }).click();
  await expect(page.getByTestId('run-status')).toHaveText('Training', { timeout: 60_000 });
  const other = await context.newPage();
  await openPlayground(other);
  await expect(other.getByTestId('model-status')).toHaveAttribute('data-state', 'ready', { timeout: 60_000 });
  await expect(other.getByTestId('dataset-status')).toHaveAttribute('data-state', 'ready', { timeout: 30_000 });
  // (the other tab offers to resume the first tab's run; it starts its own instead)
  await other.getByRole('button', { name: 'Start', exact: true }).click();
  await expect(other.getByTestId('run-lock-problem')).toContainText('A run is active in another tab of the playground');
  await expect(other.getByTestId('run-status')).not.toHaveText('Training');
  await screenshot(other, 'runs-second-tab');
  await page.getByRole('button', { name: 'Stop', exact: true }).click();
  await expect(page.getByTestId('run-status')).toHaveText('Stopped', { timeout: 120_000 });
  await other.close();
  await screenshot(page, 'runs-library-page');
  expect(errors).toEqual([]);
});
