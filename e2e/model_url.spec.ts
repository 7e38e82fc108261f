// A model from URLs: downloaded with a progress bar, kept in the browser's Cache Storage, and loaded from
// there the second time without touching the network. The "server" is a route that serves stories260K.
import { expect, test } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { collectErrors, openPlayground, STORIES } from './helpers/playground';

test('a model downloaded from URLs is cached: the second load does not download', async ({ page }) => {
  const errors = collectErrors(page);
  const hits: string[] = [];
  await page.route('https://models.example.org/**', async (route) => {
    const name = new URL(route.request().url()).pathname.split('/').pop()!;
    hits.push(name);
    const body = readFileSync(STORIES + name);
    // a slow first chunk would be invisible here; the progress bar is checked through its final state
    await route.fulfill({ status: 200, body, headers: { 'content-type': 'application/octet-stream', 'access-control-allow-origin': '*', 'content-length': String(body.length) } });
  });
  const urls = 'https://models.example.org/stories260K.bin\nhttps://models.example.org/tok512.bin';

  await openPlayground(page, '?autoload=0');
  await page.getByText('From URL', { exact: true }).click();
  await page.getByLabel('Hugging Face model or file URLs').fill(urls);
  await page.getByRole('button', { name: 'Download and load' }).click();
  await expect(page.getByTestId('model-status')).toHaveAttribute('data-state', 'ready', { timeout: 60_000 });
  await expect(page.getByTestId('model-name')).toHaveText('stories260K');
  expect(hits.sort()).toEqual(['stories260K.bin', 'tok512.bin']);
  const cached = await page.evaluate(async () => (await (await caches.open('grpo-playground-models-v1')).keys()).map((r) => r.url).sort());
  expect(cached).toEqual(['https://models.example.org/stories260K.bin', 'https://models.example.org/tok512.bin']);

  // a new page in the same browser profile: the files come from the cache
  await page.reload();
  await expect(page.getByTestId('gpu-chip')).toHaveAttribute('data-ready', 'true', { timeout: 60_000 });
  await page.getByText('From URL', { exact: true }).click();
  await page.getByLabel('Hugging Face model or file URLs').fill(urls);
  await page.getByRole('button', { name: 'Download and load' }).click();
  await expect(page.getByTestId('model-status')).toHaveAttribute('data-state', 'ready', { timeout: 60_000 });
  expect(hits).toHaveLength(2);

  // a URL that is not there says so
  await page.getByLabel('Hugging Face model or file URLs').fill('https://models.example.org/missing.bin\nhttps://models.example.org/tok512.bin');
  await page.unroute('https://models.example.org/**');
  await page.route('https://models.example.org/**', (route) => route.fulfill({ status: 404, body: 'no', headers: { 'access-control-allow-origin': '*' } }));
  await page.getByRole('button', { name: 'Download and load' }).click();
  await expect(page.getByTestId('model-error')).toContainText('missing.bin: not found (404)');
  expect(errors.filter((e) => !/404|Not Found/i.test(e))).toEqual([]);
});
