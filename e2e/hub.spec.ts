// Models and datasets by Hugging Face Hub id, against a Hub-shaped server this spec starts on 127.0.0.1
// (test/hub/hub_server.ts; nothing leaves the machine): the file list and what will download, progress,
// a connection that keeps dropping (what arrived is kept) and the resumed download (an HTTP Range
// request), the second load from the browser's cache, the cache manager, the gated message and the token,
// refused repositories; then a parquet dataset by id with its config and split chosen.
import { expect, test, type Page } from '@playwright/test';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { startHubServer, type HubServer } from '../test/hub/hub_server';
import { datasetFixtures, GATED_TOKEN, modelFixtures, reverseRows } from '../test/hub/fixtures';
import { chooseFiles, collectErrors, openPlayground } from './helpers/playground';

let server: HubServer;
test.beforeAll(async () => {
  server = await startHubServer({ models: modelFixtures(), datasets: datasetFixtures() });
});
test.afterAll(async () => {
  await server.close();
});

async function setEndpoint(page: Page, panel: 'model' | 'dataset') {
  const scope = page.getByTestId(`${panel}-panel`);
  const details = scope.locator('details.hub-settings');
  if (!(await details.evaluate((d) => (d as HTMLDetailsElement).open))) await details.locator('summary').click();
  await scope.getByLabel('Hub endpoint').fill(server.url);
}

async function check(page: Page, id: string) {
  await page.getByLabel('Model on the Hub').fill(id);
  await page.getByRole('button', { name: 'Check' }).click();
}

test('a model by Hub id: size first, progress, resume after dropped connections, cache, gated, refused repos', async ({ page }) => {
  const errors = collectErrors(page);
  await openPlayground(page, '?autoload=0');
  await page.getByText('Hugging Face Hub', { exact: true }).click();
  await setEndpoint(page, 'model');

  // the plan: files and sizes, before any weights move
  await check(page, 'test-org/tiny-puzzles');
  await expect(page.getByTestId('hub-plan-summary')).toHaveText('4 files, 2.0 MB: 2.0 MB to download (624 B already cached)');
  await expect(page.getByTestId('hub-model-plan')).toContainText('model.safetensors');
  expect(server.log.some((r) => r.path.endsWith('model.safetensors'))).toBe(false);
  await page.getByTestId('model-panel').screenshot({ path: 'test-results/hub-model-plan.png' });

  // the weights' connection drops at 700,000 bytes every time: progress stops there, retries, then says
  // what is kept
  server.throttle(100_000, 40);
  server.drop('model.safetensors', { at: 700_000, mode: 'always' });
  await page.getByRole('button', { name: 'Download 2.0 MB and load' }).click();
  await expect(page.getByTestId('model-download-progress')).toBeVisible();
  await expect(page.getByTestId('model-download-total-text')).toContainText('in all');
  await expect(page.getByTestId('model-status')).toContainText('model.safetensors');
  await page.getByTestId('model-panel').screenshot({ path: 'test-results/hub-model-progress.png' });
  await expect(page.getByTestId('model-error')).toContainText(
    'test-org/tiny-puzzles: model.safetensors: the connection dropped at 683.6 kB of 2.0 MB',
    { timeout: 30_000 },
  );
  await expect(page.getByTestId('model-error')).toContainText('3 retries failed; the 683.6 kB that arrived are kept: load again to resume from there');
  await page.getByTestId('hub-cache').locator('summary').click();
  await expect(page.getByTestId('hub-cache-row').filter({ hasText: 'test-org/tiny-puzzles' })).toContainText('683.6 kB unfinished');

  // the connection is back: the same button continues from byte 700,000
  server.clearDrops();
  server.log.length = 0;
  await page.getByRole('button', { name: 'Download 2.0 MB and load' }).click();
  await expect(page.getByTestId('model-status')).toHaveAttribute('data-state', 'ready', { timeout: 60_000 });
  await expect(page.getByTestId('model-name')).toHaveText('tiny-puzzles');
  const weights = server.log.filter((r) => r.server === 'cdn' && r.path.endsWith('model.safetensors'));
  expect(weights.map((r) => r.range)).toEqual(['bytes=0-0', 'bytes=700000-']);
  expect(server.log.every((r) => r.authorization === null)).toBe(true); // no token given, none sent
  await expect(page.getByTestId('hub-cache-row').filter({ hasText: 'test-org/tiny-puzzles' })).toContainText('4 files, 2.0 MB');

  // a new page: the endpoint setting stays, the files come from the cache
  server.throttle(1 << 30, 0);
  await page.reload();
  await expect(page.getByTestId('gpu-chip')).toHaveAttribute('data-ready', 'true', { timeout: 60_000 });
  await page.getByText('Hugging Face Hub', { exact: true }).click();
  server.log.length = 0;
  await check(page, 'test-org/tiny-puzzles');
  await expect(page.getByTestId('hub-plan-summary')).toHaveText('4 files, 2.0 MB, all in the cache: nothing to download');
  await page.getByRole('button', { name: 'Load from the cache' }).click();
  await expect(page.getByTestId('model-status')).toHaveAttribute('data-state', 'ready', { timeout: 60_000 });
  expect(server.log.filter((r) => r.path.includes('/resolve/') || r.server === 'cdn')).toEqual([]);
  // a repository typed in the URL tab goes the same way (the Hub settings' endpoint, the same cache)
  await page.getByText('From URL', { exact: true }).click();
  await page.getByLabel('Hugging Face model or file URLs').fill('test-org/tiny-puzzles');
  await page.getByRole('button', { name: 'Download and load' }).click();
  await expect(page.getByTestId('model-status')).toHaveAttribute('data-state', 'ready', { timeout: 60_000 });
  expect(server.log.filter((r) => r.path.includes('/resolve/') || r.server === 'cdn')).toEqual([]);
  await page.getByText('Hugging Face Hub', { exact: true }).click();

  // gated: the message says how to get access; the token (memory only) opens it
  await check(page, 'test-org/gated-tiny');
  await expect(page.getByTestId('hub-model-error')).toContainText('test-org/gated-tiny is gated or private (401');
  await expect(page.getByTestId('hub-model-error')).toContainText(`request access at ${server.url}/test-org/gated-tiny`);
  await expect(page.getByTestId('hub-model-error')).toContainText('give it as an access token in the Hub settings (kept in this tab only)');
  await page.getByTestId('model-panel').screenshot({ path: 'test-results/hub-model-gated.png' });
  await page.getByTestId('model-panel').getByLabel('Access token (for gated or private repositories)').fill(GATED_TOKEN);
  await page.getByRole('button', { name: 'Check' }).click();
  await expect(page.getByTestId('hub-plan-summary')).toContainText('4 files, 2.0 MB');
  const stored = await page.evaluate(() => JSON.stringify({ ...localStorage }) + document.cookie);
  expect(stored).not.toContain(GATED_TOKEN);
  expect(server.log.filter((r) => r.server === 'cdn').every((r) => r.authorization === null)).toBe(true);

  // refused before any weights download, one message each
  server.log.length = 0;
  await check(page, 'test-org/gpt2-like');
  await expect(page.getByTestId('hub-model-error')).toContainText('test-org/gpt2-like: config.json: model_type "gpt2" is not supported');
  await check(page, 'test-org/bin-only');
  await expect(page.getByTestId('hub-model-error')).toContainText('test-org/bin-only has only PyTorch weights (pytorch_model.bin) and no model.safetensors');
  await check(page, 'test-org/nope');
  await expect(page.getByTestId('hub-model-error')).toContainText(`test-org/nope: no such model on ${server.url} (404 RepoNotFound)`);
  expect(server.log.some((r) => /\.(safetensors|bin)$/.test(r.path))).toBe(false);

  // the Content-Security-Policy admits loopback http endpoints and https ones, not another http host
  await page.getByTestId('model-panel').getByLabel('Hub endpoint').fill('http://example.org');
  await check(page, 'test-org/tiny-puzzles');
  await expect(page.getByTestId('hub-model-error')).toContainText('test-org/tiny-puzzles: could not reach the Hub at http://example.org');

  // the cache manager deletes a model
  await page.getByTestId('hub-cache').locator('summary').click();
  await expect(page.getByTestId('hub-cache-row').filter({ hasText: 'test-org/tiny-puzzles' })).toContainText('4 files, 2.0 MB');
  await page.getByTestId('model-panel').screenshot({ path: 'test-results/hub-cache-manager.png' });
  await page.getByRole('button', { name: 'Delete test-org/tiny-puzzles from the cache' }).click();
  await expect(page.getByTestId('hub-cache-row').filter({ hasText: 'test-org/tiny-puzzles' })).toHaveCount(0);
  expect(errors.filter((e) => !/401|403|404|Content Security Policy|Failed to load resource|ERR_/i.test(e))).toEqual([]);
});

test('a parquet dataset by Hub id with its config and split; bad parquet and a missing split are named', async ({ page }) => {
  const errors = collectErrors(page);
  await openPlayground(page, '?autoload=0');
  await setEndpoint(page, 'dataset');
  const hub = page.getByTestId('hub-dataset');
  await page.getByLabel('Or a dataset on the Hub').fill('test-org/puzzles');
  await hub.getByRole('button', { name: 'List splits' }).click();
  await expect(hub.getByLabel('Config')).toHaveValue('default');
  await expect(hub.getByLabel('Split')).toHaveValue('train');
  await hub.getByLabel('Config').selectOption('hard');
  await expect(hub.getByLabel('Split')).toContainText('train (2 files)');
  await hub.getByRole('button', { name: 'Load hard/train' }).click();
  await expect(page.getByTestId('dataset-status')).toHaveAttribute('data-state', 'ready', { timeout: 30_000 });
  await expect(page.getByTestId('rows-kept')).toHaveText('40');
  await expect(page.getByTestId('dataset-panel')).toContainText('puzzles-hard-train.parquet.zip');

  await hub.getByLabel('Config').selectOption('default');
  await hub.getByLabel('Split').selectOption('test');
  await hub.getByRole('button', { name: 'Load default/test' }).click();
  await expect(page.getByTestId('rows-kept')).toHaveText('12', { timeout: 30_000 });
  await expect(page.getByTestId('dataset-panel')).toContainText('rev ');
  await page.getByTestId('dataset-panel').screenshot({ path: 'test-results/hub-dataset.png' });

  // a row with an empty answer is reported by its row number
  await page.getByLabel('Or a dataset on the Hub').fill('test-org/bad-rows');
  await hub.getByRole('button', { name: 'List splits' }).click();
  await hub.getByRole('button', { name: 'Load default/train' }).click();
  await expect(page.getByTestId('dataset-issues')).toContainText('row 10');
  await expect(page.getByTestId('dataset-issues')).toContainText('the answer field "answer" is empty');

  // a truncated parquet file, a file without text columns, a split that is not there
  await page.getByLabel('Or a dataset on the Hub').fill('test-org/truncated');
  await hub.getByRole('button', { name: 'List splits' }).click();
  await hub.getByRole('button', { name: 'Load default/train' }).click();
  await expect(page.getByTestId('dataset-error')).toContainText('truncated-default-train.parquet is truncated or damaged');
  await page.getByLabel('Or a dataset on the Hub').fill('test-org/numbers');
  await hub.getByRole('button', { name: 'List splits' }).click();
  await hub.getByRole('button', { name: 'Load default/train' }).click();
  await expect(page.getByTestId('dataset-error')).toContainText('has no text (string) columns: its columns are "x" (INT32), "y" (DOUBLE)');
  await page.getByLabel('Or a dataset on the Hub').fill('test-org/puzzles:default/validation');
  await hub.getByRole('button', { name: 'List splits' }).click();
  await expect(page.getByTestId('hub-dataset-error')).toContainText('test-org/puzzles:default has no split "validation"; its splits are "train", "test"');

  // a local .parquet file, through the same file drop as JSONL and CSV
  const local = new Uint8Array(parquetWriteBuffer({ columnData: [
    { name: 'prompt', data: reverseRows(7, 9).map((r) => r.question), type: 'STRING' },
    { name: 'completion', data: reverseRows(7, 9).map((r) => r.answer), type: 'STRING' },
  ] }));
  await chooseFiles(page, 'dataset-drop', { name: 'mine.parquet', mimeType: 'application/octet-stream', buffer: Buffer.from(local) });
  await expect(page.getByTestId('rows-kept')).toHaveText('7', { timeout: 30_000 });
  expect(errors.filter((e) => !/Failed to load resource/i.test(e))).toEqual([]);
});
