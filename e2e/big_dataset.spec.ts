// A big dataset (100 MB of JSONL by default; BIG_DATASET_MB sets another size) uploaded in the page: the
// engine worker reads and parses it in chunks, the page shows how far it got, stays responsive while it
// loads (no long task on the page's thread, input handled at once), and counts every row.
import { expect, test } from '@playwright/test';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { collectErrors, openPlayground, shoot } from './helpers/playground';

const MEGABYTES = Number(process.env.BIG_DATASET_MB ?? 100);
/** The page's thread may be busy this long at a time while the file loads (the brief's "~200 ms"). */
const MAX_BLOCK_MS = 200;

/** Writes a JSONL file of about `mb` MB of distinct rows, plus a few bad lines; returns what it holds. */
function writeBigJsonl(path: string, mb: number): { rows: number; invalid: number; bytes: number } {
  const target = mb * 1e6;
  const filler = 'lorem ipsum dolor sit amet '.repeat(4);
  const parts: string[] = [];
  let bytes = 0;
  let rows = 0;
  let invalid = 0;
  for (let i = 0; bytes < target; i++) {
    let line: string;
    if (i % 100_003 === 77) {
      line = '{"question": "a line cut short", '; // invalid JSON: counted, reported with its line
      invalid++;
    } else {
      line = JSON.stringify({ question: `Q${i}: what is ${i} + ${i % 97}? ${filler}`, answer: String(i + (i % 97)), id: i });
      rows++;
    }
    parts.push(line);
    bytes += Buffer.byteLength(line) + 1;
  }
  writeFileSync(path, parts.join('\n') + '\n');
  return { rows, invalid, bytes: statSync(path).size };
}

test(`a ${MEGABYTES} MB JSONL dataset loads with progress, without freezing the page`, async ({ page }) => {
  test.setTimeout(180_000);
  const dir = mkdtempSync(join(tmpdir(), 'grpo-big-dataset-'));
  try {
    const file = join(dir, 'big.jsonl');
    const t0 = Date.now();
    const made = writeBigJsonl(file, MEGABYTES);
    console.log(`wrote ${(made.bytes / 1e6).toFixed(1)} MB (${made.rows} rows) in ${Date.now() - t0} ms`);

    const errors = collectErrors(page);
    await openPlayground(page, '?autoload=0');

    // watch the page's thread: long tasks (main-thread work over 50 ms), the gaps between animation frames,
    // and every progress text shown
    await page.evaluate(() => {
      const w = window as unknown as { __watch: { longTasks: number[]; frameGaps: number[]; progress: string[]; inputDelays: number[]; on: boolean } };
      w.__watch = { longTasks: [], frameGaps: [], progress: [], inputDelays: [], on: true };
      new PerformanceObserver((list) => {
        for (const e of list.getEntries()) if (w.__watch.on) w.__watch.longTasks.push(Math.round(e.duration));
      }).observe({ type: 'longtask', buffered: false });
      let last = performance.now();
      const frame = (now: number) => {
        if (!w.__watch.on) return;
        w.__watch.frameGaps.push(Math.round(now - last));
        last = now;
        requestAnimationFrame(frame);
      };
      requestAnimationFrame(frame);
      new MutationObserver(() => {
        const t = document.querySelector('[data-testid=dataset-progress]')?.textContent;
        if (t && w.__watch.progress[w.__watch.progress.length - 1] !== t) w.__watch.progress.push(t);
      }).observe(document.body, { subtree: true, childList: true, characterData: true });
      // how long after the browser received an input event the page's handler ran
      for (const type of ['keydown', 'pointerdown']) {
        document.addEventListener(type, (e) => w.__watch.on && w.__watch.inputDelays.push(Math.round(performance.now() - e.timeStamp)), true);
      }
    });

    const started = Date.now();
    const chooser = page.waitForEvent('filechooser');
    await page.getByTestId('dataset-drop').getByText(/^Choose files?…$/).click();
    await (await chooser).setFiles(file);
    const status = page.getByTestId('dataset-status');
    await expect(page.getByTestId('dataset-progress')).toContainText(/MB of [\d.,]+ MB \(\d+%\)/, { timeout: 30_000 });
    await expect(page.getByTestId('dataset-progress-bar')).toHaveAttribute('aria-valuemax', String(made.bytes));
    await page.getByTestId('dataset-panel').screenshot({ path: 'test-results/big-dataset-progress.png' });

    // the page answers typing and clicks while the worker parses
    const field = page.locator('[data-field="max_steps"] input');
    let interactions = 0;
    while ((await status.getAttribute('data-state')) === 'loading' && interactions < 6) {
      const t = Date.now();
      await field.fill(String(100 + interactions));
      await page.locator('.reward-doc summary').first().click();
      interactions++;
      console.log(`interaction ${interactions}: ${Date.now() - t} ms round trip`);
    }

    await expect(status).toHaveAttribute('data-state', 'ready', { timeout: 150_000 });
    const loadMs = Date.now() - started;
    const watch = await page.evaluate(() => {
      const w = window as unknown as { __watch: { longTasks: number[]; frameGaps: number[]; progress: string[]; inputDelays: number[]; on: boolean } };
      w.__watch.on = false;
      return w.__watch;
    });
    const maxGap = Math.max(...watch.frameGaps);
    console.log(
      `${MEGABYTES} MB loaded in ${loadMs} ms; progress texts ${watch.progress.length} (${watch.progress.slice(0, 3).join(' | ')} ...); ` +
        `long tasks ${JSON.stringify(watch.longTasks)}; max frame gap ${maxGap} ms over ${watch.frameGaps.length} frames; input delays ${JSON.stringify(watch.inputDelays)}`,
    );

    await expect(page.getByTestId('rows-kept')).toHaveText(made.rows.toLocaleString('en-US'));
    await expect(page.getByTestId('rows-invalid')).toHaveText(made.invalid.toLocaleString('en-US'));
    await expect(page.getByTestId('dataset-issues')).toContainText('line 78');
    await expect(page.getByTestId('dataset-preview')).toContainText('Q0: what is 0 + 0?');
    await expect(field).toHaveValue(String(100 + interactions - 1));
    await shoot(page, 'dataset-panel', 'big-dataset-loaded');

    // progress moved through intermediate values
    const percents = new Set(watch.progress.map((t) => Number(/\((\d+)%\)/.exec(t)?.[1] ?? NaN)).filter((p) => p > 0 && p < 100));
    expect(percents.size).toBeGreaterThanOrEqual(2);
    // the page's thread was never busy for long: no long task over the limit, input handled promptly
    expect(interactions).toBeGreaterThan(0);
    expect(Math.max(0, ...watch.longTasks)).toBeLessThan(MAX_BLOCK_MS);
    expect(Math.max(0, ...watch.inputDelays)).toBeLessThan(MAX_BLOCK_MS);
    expect(errors.filter((e) => !/tiny-puzzles|models\/|datasets\//.test(e))).toEqual([]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
