// A sweep in the page: 2 presets x 2 seeds of 5 steps on the built-in model, queued from the Sweep tab;
// the page is reloaded in the middle of the second run and the queue goes on from its checkpoint. Then:
// every run is in the runs library with steps 1..5 once each, the summary's numbers equal the runs' own
// metrics, "Overlay its runs" draws four series on every chart with the settings that differ, and the
// CLI, given the spec the page exports, trains the same four runs to the same per-step metrics.
import { expect, test, type Page } from '@playwright/test';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { collectErrors, openPlayground, screenshot, setSetting, shoot } from './helpers/playground';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const STEPS = 5;
const DETERMINISTIC = ['reward', 'reward_std', 'loss', 'kl', 'grad_norm', 'num_tokens', 'completions/mean_length'];

type Rec = { id: string; name: string; history: Record<string, number>[]; evals: { step: number; passAt1: number; rewardMean: number }[]; sweep: { arm: string; seed: number } | null; status: string };

async function libraryRuns(page: Page): Promise<Rec[]> {
  return page.evaluate(
    () =>
      new Promise<Rec[]>((resolve, reject) => {
        const req = indexedDB.open('grpo-playground-library');
        req.onerror = () => reject(req.error);
        req.onsuccess = () => {
          const all = req.result.transaction('runs').objectStore('runs').getAll();
          all.onsuccess = () => resolve(all.result as Rec[]);
          all.onerror = () => reject(all.error);
        };
      }),
  );
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const sampleStd = (xs: number[]) => Math.sqrt(xs.reduce((a, x) => a + (x - mean(xs)) ** 2, 0) / (xs.length - 1));

test('a 2-arm x 2-seed sweep survives a reload, summarises its runs, overlays them, and matches the CLI', async ({ page }) => {
  test.setTimeout(20 * 60_000);
  const errors = collectErrors(page);
  await openPlayground(page);
  await expect(page.getByTestId('model-status')).toHaveAttribute('data-state', 'ready', { timeout: 60_000 });
  await expect(page.getByTestId('dataset-status')).toHaveAttribute('data-state', 'ready', { timeout: 30_000 });
  await setSetting(page, 'num_generations', '4');
  await setSetting(page, 'prompts_per_step', '2');
  await setSetting(page, 'eval_max_samples', '8');
  await setSetting(page, 'eval_interval', '0');
  await setSetting(page, 'checkpoint_interval', '1');

  await page.getByTestId('tab-sweep').click();
  const presets = page.getByTestId('sweep-presets');
  await presets.getByLabel(/GRPO \(DeepSeekMath\)/).uncheck();
  await expect(presets.getByLabel('Dr. GRPO')).toBeChecked();
  await expect(presets.getByLabel('DAPO')).toBeChecked();
  await page.getByTestId('sweep-name').fill('e2e-presets');
  await page.getByTestId('sweep-seeds').fill('1, 2');
  await page.getByTestId('sweep-steps').fill(String(STEPS));
  await expect(page.getByTestId('sweep-designer')).toContainText(`2 arms × 2 seeds = 4 runs of ${STEPS} steps`);
  const specWait = page.waitForEvent('download');
  await page.getByTestId('sweep-export-spec').click();
  const spec = JSON.parse(readFileSync(await (await specWait).path(), 'utf8'));
  expect(spec).toMatchObject({ name: 'e2e-presets', model: 'public/models/tiny-puzzles', dataset: 'public/datasets/reverse.jsonl', sweep: { presets: ['dr_grpo', 'dapo'] }, seeds: [1, 2], steps: STEPS });
  await page.getByTestId('sweep-start').click();

  // reload once the second run has stored its step-1 checkpoint
  const status = page.getByTestId('sweep-status');
  await expect(status).toHaveAttribute('data-done', '1', { timeout: 300_000 });
  await page.locator('[data-testid=run-checkpoint][data-step="1"][data-stored=true]').waitFor({ timeout: 300_000 });
  await page.reload();
  await expect(page.getByTestId('gpu-chip')).toHaveAttribute('data-ready', 'true', { timeout: 60_000 });
  await page.getByTestId('tab-sweep').click();
  await expect(page.getByTestId('run-log')).toContainText(/Sweep e2e-presets: continuing \S+-seed\d \([234] of 4\) from its checkpoint of step [1-4]\./, { timeout: 120_000 });
  await expect(page.getByTestId('run-log')).toContainText('Resumed the run saved at step');
  await shoot(page, 'experiments-panel', 'sweep-running');
  await expect(page.getByTestId('sweep-status')).toHaveAttribute('data-state', 'finished', { timeout: 600_000 });
  await expect(page.getByTestId('sweep-status')).toHaveAttribute('data-done', '4');

  // the library: four runs of the sweep, each with steps 1..3 once and evaluations at 0 and 3
  await expect.poll(async () => (await libraryRuns(page)).filter((r) => r.sweep && r.status === 'finished').length, { timeout: 30_000 }).toBe(4);
  const runs = (await libraryRuns(page)).filter((r) => r.sweep);
  for (const r of runs) {
    expect(r.history.map((h) => h.step), r.name).toEqual(Array.from({ length: STEPS }, (_, i) => i + 1));
    expect(r.evals.map((e) => e.step).sort(), r.name).toEqual([0, STEPS]);
  }
  // the summary's numbers are the runs' own metrics
  const rows = page.getByTestId('sweep-arm');
  await expect(rows).toHaveCount(2);
  for (const arm of ['dr_grpo', 'dapo']) {
    const mine = runs.filter((r) => r.sweep!.arm === arm);
    expect(mine.map((r) => r.sweep!.seed).sort()).toEqual([1, 2]);
    const last = mine.map((r) => r.evals.find((e) => e.step === STEPS)!.passAt1);
    const reward = mine.map((r) => mean(r.history.map((h) => h.reward)));
    const row = page.locator(`[data-testid=sweep-arm][data-arm="${arm}"]`);
    expect(Number(await row.getAttribute('data-pass-last'))).toBeCloseTo(mean(last), 12);
    expect(Number(await row.getAttribute('data-reward'))).toBeCloseTo(mean(reward), 12);
    expect(Number(await row.getAttribute('data-reward-std'))).toBeCloseTo(sampleStd(reward), 12);
  }
  await expect(page.getByTestId('sweep-chart')).toBeVisible();
  await shoot(page, 'experiments-panel', 'sweep-summary');

  // the report and CSV come from the same summary
  const reportWait = page.waitForEvent('download');
  await page.getByTestId('sweep-report').click();
  const html = readFileSync(await (await reportWait).path(), 'utf8');
  expect(html.match(/<polyline class="series"/g)!.length).toBeGreaterThanOrEqual(8);
  expect(html).not.toMatch(/<script/);

  // overlay: four series on every chart (the last run is the live one), and the differing settings
  await page.getByTestId('sweep-overlay').click();
  await expect(page.getByTestId('overlay')).toBeVisible();
  await expect(page.getByTestId('overlay-chart-reward')).toHaveAttribute('data-series', '4');
  await expect(page.getByTestId('overlay-chart-eval/pass@1')).toHaveAttribute('data-series', '4');
  await expect(page.getByTestId('overlay-chart-kl')).toHaveAttribute('data-series', '4');
  await expect(page.getByTestId('overlay-chart-reward').locator('.recharts-line')).toHaveCount(4);
  const diff = page.getByTestId('config-diff');
  await expect(diff).toContainText('loss_type');
  await expect(diff).toContainText('seed');
  await expect(diff).not.toContainText('learning_rate');
  await page.getByTestId('overlay-x').selectOption('tokens');
  await expect(page.getByTestId('overlay-chart-reward')).toHaveAttribute('data-series', '4');
  await shoot(page, 'charts-panel', 'sweep-overlay');
  await page.getByTestId('tab-runs').click();
  await expect(page.getByTestId('runs-row')).toHaveCount(4);
  await screenshot(page, 'sweep-page');

  // the CLI on the exported spec: the same runs, the same per-step metrics
  const out = mkdtempSync(join(tmpdir(), 'e2e-sweep-'));
  const specPath = join(out, 'spec.json');
  writeFileSync(specPath, JSON.stringify(spec));
  const cli = spawnSync(process.execPath, ['bin/grpo-playground.mjs', 'sweep', '--spec', specPath, '--out', join(out, 'cli'), '--quiet'], { cwd: ROOT, encoding: 'utf8', timeout: 900_000 });
  expect(cli.status, cli.stderr).toBe(0);
  for (const r of runs) {
    const name = `${r.sweep!.arm}-seed${r.sweep!.seed}`;
    const cliRows = readFileSync(join(out, 'cli', 'runs', name, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, number>);
    for (const h of r.history) {
      const c = cliRows.find((x) => x.step === h.step)!;
      for (const k of DETERMINISTIC) expect(c[k], `${name} step ${h.step} ${k}`).toBe(h[k]);
    }
    expect(cliRows.find((x) => x.step === STEPS)!['eval/pass@1'], `${name} eval`).toBe(r.evals.find((e) => e.step === STEPS)!.passAt1);
  }
  expect(errors.filter((e) => !/favicon/.test(e))).toEqual([]);
});
