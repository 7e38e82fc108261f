// The page finds a WebGPU adapter, and every kernel check passes in the browser's engine worker; a check the
// adapter cannot run (a variant needing shader-f16 on SwiftShader) shows as untested, never as passed, in the
// self-test and in the GPU panel's variant list; without WebGPU the page says so and how to turn it on.
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

  // What this Chromium's adapter offers (logged: whether headless SwiftShader has shader-f16 and subgroups).
  const facts = await page.evaluate(async () => {
    const a = await navigator.gpu.requestAdapter();
    const info = a?.info as (GPUAdapterInfo & { subgroupMinSize?: number; subgroupMaxSize?: number }) | undefined;
    return { features: a ? [...a.features].map(String).sort() : [], subgroups: [info?.subgroupMinSize ?? null, info?.subgroupMaxSize ?? null], arch: info?.architecture ?? '' };
  });
  const hasF16 = facts.features.includes('shader-f16');
  console.log(`browser adapter ${facts.arch}: shader-f16 ${hasF16 ? 'yes' : 'no'}, subgroups ${facts.features.includes('subgroups') ? `yes (${facts.subgroups.join('..')})` : 'no'}`);
  // The GPU panel lists every matmul variant; the shader-f16 ones read "untested here" where it is missing.
  const availability = panel.getByTestId('variant-availability');
  await expect(availability).toBeVisible();
  await availability.locator('summary').click();
  const f16Rows = availability.locator('[data-testid="variant-availability-row"]', { hasText: 'f16_tiled' });
  await expect(f16Rows).toHaveCount(3);
  for (const row of await f16Rows.all()) {
    await expect(row).toHaveAttribute('data-available', String(hasF16));
    if (!hasF16) await expect(row).toContainText("untested here needs the 'shader-f16' feature");
  }
  await expect(availability.locator('[data-testid="variant-availability-row"]', { hasText: 'tiled_subgroup_m128_n16' })).toHaveAttribute(
    'data-available',
    String(facts.features.includes('subgroups') && (facts.subgroups[0] ?? 4) >= 4 && (facts.subgroups[1] ?? 128) <= 128),
  );

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
  // checks this adapter cannot run are listed as untested, outside the passed count
  const skippedResults = page.locator('[data-testid="kernel-result"][data-ok="skipped"]');
  const skipped = await skippedResults.count();
  await expect(page.getByTestId('kernel-result')).toHaveCount(total + skipped);
  await expect(page.locator('[data-testid="kernel-result"][data-ok="false"]')).toHaveCount(0);
  const f16Checks = page.locator('[data-testid="kernel-result"]', { has: page.locator('.kernel-name', { hasText: /^matmul_packed16 \[f16_tiled_/ }) });
  await expect(f16Checks).toHaveCount(3);
  for (const check of await f16Checks.all()) {
    await expect(check).toHaveAttribute('data-ok', hasF16 ? 'true' : 'skipped');
    if (!hasF16) {
      await expect(check.locator('.tag').first()).toHaveText('untested');
      await expect(check).toContainText("untested here: needs the 'shader-f16' feature");
      await expect(check.locator('.tag-ok')).toHaveCount(0); // never shown as a pass
    }
  }
  if (skipped > 0) await expect(page.getByTestId('selftest-skipped')).toContainText(`${skipped} untested here`);
  else await expect(page.getByTestId('selftest-skipped')).toHaveCount(0);
  // the packed 16-bit and subgroup tiled variants this adapter can run passed
  for (const name of ['matmul_packed16 [tiled_64x64_k16]', 'matmul_packed16 [smallm]']) {
    await expect(page.locator('[data-testid="kernel-result"]', { has: page.locator('.kernel-name', { hasText: name }) })).toHaveAttribute('data-ok', 'true');
  }
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
