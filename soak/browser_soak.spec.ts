// The long browser run of issue 7 (outside `npm test`): the newcomer's page, the built-in model and its
// demo, trained for SOAK_STEPS (default 200) GRPO steps while the test keeps using the page. Every ~5 s it
// measures how long the page takes to answer a click (tab switch → painted), the gap between animation
// frames, the JS heap after a garbage collection (Chromium's performance.memory, with window.gc from
// --js-flags=--expose-gc) and the engine's GPU buffer-pool counters. At the
// end it prints one JSON summary and fails when the page stopped answering, buffers grew after warm-up, or
// the run did not reach the last step.
//
//   npm run soak:browser                  (SOAK_STEPS=300 npm run soak:browser for a longer run)
import { expect, test } from '@playwright/test';
import { mkdirSync, writeFileSync } from 'node:fs';
import { builtinPresent, collectErrors, openPlayground, setSetting } from '../e2e/helpers/playground';

const STEPS = Number(process.env.SOAK_STEPS ?? 200);

interface Sample {
  step: number;
  seconds: number;
  clickToPaintMs: number;
  maxFrameGapMs: number;
  jsHeapMB: number | null;
  poolInUseMB: number | null;
  poolAllocatedMB: number | null;
}

test(`a ${STEPS}-step run in the page stays responsive and does not grow`, async ({ page }) => {
  test.setTimeout((STEPS * 6 + 300) * 1000);
  expect(builtinPresent(), 'the built-in model is missing (npm run pretrain)').toBe(true);
  const errors = collectErrors(page);
  await openPlayground(page);
  await expect(page.getByTestId('model-status')).toHaveAttribute('data-state', 'ready', { timeout: 60_000 });
  await expect(page.getByTestId('dataset-status')).toHaveAttribute('data-state', 'ready', { timeout: 30_000 });
  await setSetting(page, 'max_steps', String(STEPS));
  // a frame-gap monitor in the page
  await page.evaluate(() => {
    const w = window as unknown as { __gap: number };
    w.__gap = 0;
    let last = performance.now();
    const tick = (t: number) => {
      w.__gap = Math.max(w.__gap, t - last);
      last = t;
      requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  });
  const t0 = Date.now();
  await page.getByRole('button', { name: 'Start', exact: true }).click();
  await expect(page.getByTestId('run-status')).toHaveText('Training');

  const samples: Sample[] = [];
  const tabs = ['Rollouts', 'Try it'];
  for (let i = 0; ; i++) {
    await page.waitForTimeout(5000);
    const step = Number(await page.getByTestId('run-step').textContent());
    const status = await page.getByTestId('run-status').textContent();
    // click → the tab's panel painted
    const tab = page.getByRole('tab', { name: tabs[i % 2] });
    const c0 = Date.now();
    await tab.click();
    await expect(tab).toHaveAttribute('aria-selected', 'true');
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => r(null))));
    const clickToPaintMs = Date.now() - c0;
    const probe = await page.evaluate(async () => {
      const w = window as unknown as { __gap: number; grpoEngine: { call: (r: { type: 'gpuStatus' }) => Promise<{ pool: { bytesInUse: number; bytesAllocated: number } | null }> } };
      const gap = w.__gap;
      w.__gap = 0;
      (window as unknown as { gc?: () => void }).gc?.();
      const mem = (performance as unknown as { memory?: { usedJSHeapSize: number } }).memory;
      const s = await w.grpoEngine.call({ type: 'gpuStatus' });
      return { gap, heap: mem ? mem.usedJSHeapSize : null, pool: s.pool };
    });
    const mb = (b: number | null | undefined) => (b == null ? null : Math.round((b / 2 ** 20) * 100) / 100);
    samples.push({
      step, seconds: Math.round((Date.now() - t0) / 1000), clickToPaintMs, maxFrameGapMs: Math.round(probe.gap),
      jsHeapMB: mb(probe.heap), poolInUseMB: mb(probe.pool?.bytesInUse), poolAllocatedMB: mb(probe.pool?.bytesAllocated),
    });
    console.log(JSON.stringify(samples[samples.length - 1]));
    if (await page.getByTestId('run-error').count()) throw new Error(`the run stopped: ${await page.getByTestId('run-error').textContent()}`);
    if (step >= STEPS || /Finished|Stopped/.test(status ?? '')) break;
  }

  const afterWarmup = samples.filter((s) => s.step >= Math.min(20, STEPS / 4));
  const alloc = afterWarmup.map((s) => s.poolAllocatedMB ?? 0);
  const heap = afterWarmup.map((s) => s.jsHeapMB ?? 0);
  const summary = {
    steps: STEPS,
    wall_s: Math.round((Date.now() - t0) / 1000),
    samples: samples.length,
    click_to_paint_ms: { median: median(samples.map((s) => s.clickToPaintMs)), max: Math.max(...samples.map((s) => s.clickToPaintMs)) },
    max_frame_gap_ms: { median: median(samples.map((s) => s.maxFrameGapMs)), max: Math.max(...samples.map((s) => s.maxFrameGapMs)) },
    pool_allocated_mb_after_warmup: { first: alloc[0], last: alloc[alloc.length - 1], max: Math.max(...alloc) },
    js_heap_mb_after_warmup: { first: heap[0], last: heap[heap.length - 1], max: Math.max(...heap) },
  };
  console.log(JSON.stringify(summary));
  mkdirSync('test-results', { recursive: true });
  writeFileSync('test-results/browser-soak.json', JSON.stringify({ summary, samples }, null, 2) + '\n');

  expect(Number(await page.getByTestId('run-step').textContent())).toBe(STEPS);
  expect(summary.click_to_paint_ms.median, 'the page answers clicks while training').toBeLessThan(500);
  expect(summary.pool_allocated_mb_after_warmup.last, 'GPU buffers grew after warm-up').toBeLessThanOrEqual(summary.pool_allocated_mb_after_warmup.first);
  expect(summary.js_heap_mb_after_warmup.last, 'the JS heap (after GC) grew by more than half').toBeLessThan(1.5 * summary.js_heap_mb_after_warmup.first + 8);
  expect(errors).toEqual([]);
});

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor(s.length / 2)] : NaN;
}
