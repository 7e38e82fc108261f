// Shared steps of the playground's end-to-end specs: load a model or a dataset through the file chooser,
// set a setting, collect console errors, take screenshots.
import { expect, type Page } from '@playwright/test';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const STORIES = fileURLToPath(new URL('../../../shared/models/stories260K/', import.meta.url));
export const BUILTIN_DIR = fileURLToPath(new URL('../../public/models/tiny-puzzles/', import.meta.url));
export const builtinPresent = () => existsSync(`${BUILTIN_DIR}config.json`);

/** Errors in the page or its workers' consoles; a spec ends by expecting none. */
export function collectErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  return errors;
}

export async function openPlayground(page: Page, query = ''): Promise<void> {
  await page.goto(`/${query}`);
  await expect(page.getByRole('heading', { level: 1, name: 'GRPO Playground' })).toBeVisible();
  await expect(page.getByTestId('gpu-chip')).toHaveAttribute('data-ready', 'true', { timeout: 60_000 });
}

/** Picks files in a drop zone's "Choose file(s)…" chooser. */
export async function chooseFiles(page: Page, zone: string, files: Parameters<import('@playwright/test').FileChooser['setFiles']>[0]): Promise<void> {
  const chooser = page.waitForEvent('filechooser');
  await page.getByTestId(zone).getByText(/^Choose files?…$/).click();
  await (await chooser).setFiles(files);
}

/** stories260K (llama2.c) through the model panel's file chooser. */
export async function loadStories(page: Page): Promise<void> {
  await page.getByText('From disk', { exact: true }).click();
  await chooseFiles(page, 'model-drop', [`${STORIES}stories260K.bin`, `${STORIES}tok512.bin`]);
  await expect(page.getByTestId('model-status')).toHaveAttribute('data-state', 'ready', { timeout: 60_000 });
  await expect(page.getByTestId('model-name')).toHaveText('stories260K');
}

export async function uploadDataset(page: Page, name: string, text: string, mimeType = 'application/json'): Promise<void> {
  await chooseFiles(page, 'dataset-drop', { name, mimeType, buffer: Buffer.from(text) });
  await expect(page.getByTestId('dataset-status')).not.toHaveAttribute('data-state', 'loading', { timeout: 30_000 });
}

/** Types a value into a setting, opening its group when it is folded. */
export async function setSetting(page: Page, name: string, value: string): Promise<void> {
  const field = page.locator(`[data-field="${name}"]`);
  const group = page.locator('details.group', { has: field });
  if ((await group.count()) && !(await group.evaluate((d) => (d as HTMLDetailsElement).open))) await group.locator('summary').click();
  let control = field.locator('input, select').first();
  if ((await control.getAttribute('type')) === 'checkbox' && (await field.locator('.text-field').count()) > 0) {
    // an optional number ("set" checkbox, then its number input once set)
    if (!(await control.isChecked())) await control.check();
    control = field.locator('input:not([type="checkbox"])').first();
  }
  if ((await control.evaluate((e) => e.tagName)) === 'SELECT') await control.selectOption(value);
  else await control.fill(value);
}

/** A picture of one part of the page (the sticky run bar is let go first, so it does not cover it). */
export async function shoot(page: Page, testId: string, name: string): Promise<void> {
  await page.addStyleTag({ content: '.runbar { position: static !important; }' });
  await page.getByTestId(testId).screenshot({ path: `test-results/${name}.png` });
}

export async function screenshot(page: Page, name: string, width = 1280): Promise<void> {
  const size = page.viewportSize();
  if (size?.width !== width) await page.setViewportSize({ width, height: size?.height ?? 900 });
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: `test-results/${name}.png`, fullPage: true });
}

export const STORY_ROWS = ['Once upon a time', 'The little dog', 'One day, Lily', 'Tom had a big', 'The cat sat on the', 'A bird flew to the', 'Sam ran to the', 'Mia saw a']
  .map((prompt) => JSON.stringify({ prompt, answer: 'ball' }))
  .join('\n');
