// The page finds a WebGPU adapter, and every kernel check passes in the browser's engine worker; without
// WebGPU it says so and how to turn it on.
import { chromium, expect, test } from '@playwright/test';

test('the kernel self-test passes on the browser adapter', async ({ page }) => {
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error') pageErrors.push(m.text());
  });

  await page.goto('/');
  await expect(page.getByRole('heading', { level: 1, name: 'GRPO Playground' })).toBeVisible();
  // the GPU tab, opened from the header's GPU chip
  await page.getByTestId('gpu-chip').click();
  await expect(page.getByRole('tab', { name: 'GPU' })).toHaveAttribute('aria-selected', 'true');

  // The adapter panel shows an adapter (a software one in CI), its limits and the buffer pool.
  const panel = page.getByTestId('adapter-panel');
  await expect(panel.getByTestId('adapter-facts').or(page.getByTestId('webgpu-unavailable'))).toBeVisible({ timeout: 60_000 });
  await expect(page.getByTestId('webgpu-unavailable'), 'the page found no WebGPU adapter').toHaveCount(0);
  await expect(panel.getByTestId('adapter-vendor')).not.toBeEmpty();
  await expect(panel.getByText('maxStorageBufferBindingSize')).toBeVisible();
  await expect(panel.getByTestId('pool-stats')).toBeVisible();

  const start = Date.now();
  const button = page.getByRole('button', { name: 'Run kernel self-test' });
  await expect(button).toBeEnabled();
  await button.click();

  // SwiftShader is slow: wait as long as the whole self-test may take, but stop at once if it errors.
  const summary = page.getByTestId('selftest-summary');
  const stopped = page.getByTestId('selftest-error');
  await expect(summary.or(stopped)).toBeVisible({ timeout: 14 * 60_000 });
  console.log(`self-test took ${((Date.now() - start) / 1000).toFixed(1)} s in the browser`);
  await page.evaluate(() => window.scrollTo(0, 0)); // the sticky run bar at the top of the picture
  await page.screenshot({ path: 'test-results/selftest.png', fullPage: true });
  await page.setViewportSize({ width: 1920, height: 1080 });
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: 'test-results/selftest-1920.png', fullPage: true });

  await expect(stopped, 'the self-test stopped with an error').toHaveCount(0);
  // Every failing case with its first mismatches, so that a failure here says what broke.
  const failedCases = await page.locator('[data-testid="kernel-result"] tr[data-ok="false"]').evaluateAll((rows) =>
    rows.map((row) => {
      const kernel = row.closest('[data-testid="kernel-result"]')?.querySelector('.kernel-name')?.textContent;
      const cells = Array.from((row as HTMLTableRowElement).cells, (c) => c.textContent).join(' | ');
      const next = row.nextElementSibling;
      const mismatches = next?.classList.contains('mismatches') ? Array.from(next.querySelectorAll('li'), (li) => li.textContent) : [];
      return [`${kernel}: ${cells}`, ...mismatches].join('\n    ');
    }),
  );
  expect(failedCases, 'failed kernel cases').toEqual([]);

  const text = (await summary.textContent()) ?? '';
  const m = /^(\d+) of (\d+) kernel checks passed$/.exec(text.trim());
  expect(m, `summary line "${text}"`).not.toBeNull();
  const [passed, total] = [Number(m![1]), Number(m![2])];
  expect(total, 'there is at least one kernel check').toBeGreaterThan(0);
  expect(passed).toBe(total);
  await expect(page.getByTestId('kernel-result')).toHaveCount(total);
  await expect(page.locator('[data-testid="kernel-result"][data-ok="false"]')).toHaveCount(0);
  // (the built-in model may not be published in every checkout; its absence is the model panel's business)
  expect(pageErrors.filter((e) => !/tiny-puzzles|models\/|datasets\//.test(e)), 'errors in the page or worker console').toEqual([]);
});

test('without a WebGPU adapter the page says how to enable WebGPU', async ({ baseURL }) => {
  // The configured browser without --enable-unsafe-webgpu: on Linux, Chromium then offers no adapter.
  const configured = test.info().project.use.launchOptions ?? {};
  const args = (configured.args ?? []).filter((a) => a !== '--enable-unsafe-webgpu');
  const browser = await chromium.launch({ ...configured, args });
  try {
    const page = await browser.newPage({ baseURL, viewport: { width: 1280, height: 720 } });
    await page.goto('/');
    const hasAdapter = await page.evaluate(async () => !!(await navigator.gpu?.requestAdapter()));
    test.skip(hasAdapter, 'this Chromium offers a WebGPU adapter even without --enable-unsafe-webgpu');

    const alert = page.getByTestId('webgpu-unavailable');
    await expect(alert).toBeVisible({ timeout: 60_000 });
    await expect(alert.getByRole('heading')).toHaveText('No WebGPU adapter was found.');
    await expect(alert).toContainText('WebGPU is not available');
    await expect(alert).toContainText('enable-unsafe-webgpu');
    await expect(page.getByRole('button', { name: 'Run kernel self-test' })).toBeDisabled();
    await page.screenshot({ path: 'test-results/no-webgpu.png' });
  } finally {
    await browser.close();
  }
});
