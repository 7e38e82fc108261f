// The calculator demo in the built page (issue 16): picking it loads the built-in tiny-calculator model and
// the demo's config (the calc tool, the "[...]" call format); the tools panel shows the tool as the sandbox
// parsed it; a short GRPO run makes tool calls, and the rollouts panel shows each call with its arguments
// and result ("[123+456]" then "(579)"), the charts TRL's tools/call_frequency, and the token inspector the
// inserted result tokens marked apart from the model's own. Nothing here depends on what the weights say
// beyond the call format, so the spec holds for the early and the final tiny-calculator alike.
import { expect, test, type Page } from '@playwright/test';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { collectErrors, openPlayground, setSetting, shoot } from './helpers/playground';

const CALC_DIR = fileURLToPath(new URL('../public/models/tiny-calculator/', import.meta.url));

interface SentStep {
  step: number;
  metrics: Record<string, number>;
  groups: { completions: { text: string; turns?: { kind: string }[]; trace?: { modelMask?: number[] } }[] }[];
}

/** Records the step events exactly as the engine worker posts them. */
async function recordSteps(page: Page): Promise<void> {
  await page.addInitScript(() => {
    const w = window as unknown as { workerSteps: unknown[]; Worker: typeof Worker };
    w.workerSteps = [];
    const Original = w.Worker;
    w.Worker = class extends Original {
      constructor(url: string | URL, opts?: WorkerOptions) {
        super(url, opts);
        this.addEventListener('message', (ev: MessageEvent) => {
          const d = ev.data as { type?: string; value?: { kind?: string } };
          if (d && d.type === 'progress' && d.value && d.value.kind === 'step') w.workerSteps.push(d.value);
        });
      }
    };
  });
}

test('the calculator demo: tiny-calculator calls its tool during a GRPO run, and the page shows the calls', async ({ page }) => {
  expect(existsSync(`${CALC_DIR}model.safetensors`), 'tiny-calculator is not in public/models/tiny-calculator/ (npm run pretrain:calculator makes it)').toBe(true);
  const errors = collectErrors(page);
  await recordSteps(page);
  await openPlayground(page);
  // the first screen as ever: tiny-puzzles and the main demo
  await expect(page.getByTestId('model-status')).toHaveAttribute('data-state', 'ready', { timeout: 60_000 });
  await expect(page.getByTestId('model-name')).toHaveText('tiny-puzzles');
  await expect(page.getByTestId('builtin-model-tiny-calculator')).toContainText('calls a calculator tool');

  // the calculator demo brings its model and its config
  await page.locator('input[name="dataset"][value="calculator"]').check();
  await expect(page.getByTestId('model-name')).toHaveText('tiny-calculator', { timeout: 60_000 });
  await expect(page.getByTestId('model-status')).toHaveAttribute('data-state', 'ready', { timeout: 60_000 });
  await expect(page.getByTestId('dataset-status')).toHaveAttribute('data-state', 'ready', { timeout: 30_000 });
  await expect(page.getByTestId('demo-model-note')).toHaveCount(0);

  // the tools panel: the calc tool as the sandbox parsed it, and the call format of the demo
  const tools = page.getByTestId('tools-panel');
  await expect(tools.getByTestId('tools-check')).toHaveAttribute('data-state', 'ok', { timeout: 30_000 });
  await expect(tools.getByTestId('tool-row')).toHaveCount(1);
  await expect(tools.getByTestId('tool-row')).toContainText('calc');
  await expect(tools.getByTestId('tool-row')).toContainText('input: string');
  await expect(tools.locator('[data-field="tool_call_format"] select')).toHaveValue('pattern');
  await expect(tools.locator('[data-field="tool_call_open"] textarea')).toHaveValue('[');
  await expect(tools.locator('[data-field="tool_result_template"] textarea')).toHaveValue('({result})');
  // a broken tools file is refused with its line, then the demo's comes back
  const editor = tools.getByTestId('tools_source-editor');
  const good = await editor.inputValue();
  await editor.fill('[\n  { name: "calc", run: () => 1 },\n  { name: "x" run: () => 2 },\n]');
  await expect(tools.getByTestId('tools-error')).toContainText(/does not compile: SyntaxError: .*\(line 3: /, { timeout: 30_000 });
  await shoot(page, 'tools-panel', 'tools-panel-error');
  await editor.fill(good);
  await expect(tools.getByTestId('tools-check')).toHaveAttribute('data-state', 'ok', { timeout: 30_000 });
  await shoot(page, 'tools-panel', 'tools-panel');
  await shoot(page, 'model-panel', 'tools-model-panel');

  // a short run: three steps of 4 prompts x 8 completions, no evaluations
  await setSetting(page, 'max_steps', '3');
  await setSetting(page, 'eval_split', '0');
  await expect(page.getByTestId('settings-problems')).toHaveCount(0);
  await page.getByRole('button', { name: 'Start', exact: true }).click();
  await expect
    .poll(async () => {
      if (await page.getByTestId('run-error').count()) return `the run stopped: ${await page.getByTestId('run-error').textContent()}`;
      return await page.getByTestId('run-status').textContent();
    }, { timeout: 240_000 })
    .toBe('Finished');

  const sent = await page.evaluate(() => (window as unknown as { workerSteps: SentStep[] }).workerSteps);
  expect(sent.map((s) => s.step)).toEqual([1, 2, 3]);
  for (const s of sent) expect(s.metrics['tools/call_frequency'], `step ${s.step}`).toBeGreaterThanOrEqual(0);
  const calls = sent.reduce((a, s) => a + s.metrics['tools/call_frequency'] * s.groups.reduce((n, g) => n + g.completions.length, 0), 0);
  expect(calls, 'tool calls in three steps of 32 completions').toBeGreaterThan(0);
  await expect(page.getByTestId('chart-tools')).toBeVisible();
  await expect(page.getByTestId('chart-tools')).toHaveAttribute('data-points', '3');

  // the rollouts: every kept step; a completion that called shows the call, its arguments and its result
  await page.getByRole('tab', { name: 'Rollouts' }).click();
  await page.getByTestId('rollout-step').selectOption({ label: 'all kept steps (3)' });
  const called = page.getByTestId('completion').filter({ has: page.getByTestId('turn-tool_call') });
  expect(await called.count()).toBeGreaterThan(0);
  const one = called.first();
  // the whole text as the model's context holds it: the call "[...]" then the inserted "(" of its result (an
  // error's words are outside tiny-calculator's 17-character vocabulary, so only a number reads back whole)
  await expect(one.getByTestId('completion-full-text')).toHaveText(/\[[^\]]*\]\(/);
  await expect(one.getByTestId('turn-tool_call').first()).toContainText(/^Tool callcalc\(\{"input":"[^"]*"\}\)$/);
  await expect(one.locator('[data-testid="turn-tool_result"], [data-testid="turn-tool_error"]').first()).toContainText('inserted, not trained on');
  // a result (when one came back) is inserted as "(result)"
  const results = page.getByTestId('completion').filter({ has: page.getByTestId('turn-tool_result') });
  if ((await results.count()) > 0) {
    const r = results.first();
    const value = (await r.getByTestId('turn-tool_result').first().locator('pre').textContent())!;
    expect(value).toMatch(/^\d+$/);
    await expect(r.getByTestId('completion-full-text')).toContainText(`](${value})`);
  }

  // the token inspector of a completion that called (traces go with the first groups of a step: all four here)
  const traced = called.filter({ has: page.getByTestId('token-inspector-toggle') }).first();
  await traced.getByTestId('token-inspector-toggle').click();
  const inspector = traced.getByTestId('token-inspector');
  await expect(inspector).toBeVisible();
  await expect(inspector.getByTestId('legend-inserted')).toBeVisible();
  const marks = await inspector.getByTestId('token').evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset.marks ?? ''));
  const inserted = marks.filter((m) => m.split(' ').includes('inserted')).length;
  expect(inserted, 'inserted tokens marked').toBeGreaterThan(0);
  expect(inserted, 'the model\'s own tokens are not marked inserted').toBeLessThan(marks.length);
  // the inserted tokens are the "(...)" of the result: "(" first
  const texts = await inspector.getByTestId('token').allTextContents();
  expect(texts[marks.findIndex((m) => m.split(' ').includes('inserted'))]).toBe('(');
  await traced.scrollIntoViewIfNeeded();
  await traced.screenshot({ path: 'test-results/tools-token-inspector.png' });
  await page.getByTestId('charts-panel').screenshot({ path: 'test-results/tools-charts.png' });

  // back to the main demo: tiny-puzzles and its config (no tools) come back
  await page.locator('input[name="dataset"][value="reverse"]').check();
  await expect(page.getByTestId('model-name')).toHaveText('tiny-puzzles', { timeout: 60_000 });
  await expect(page.getByTestId('model-status')).toHaveAttribute('data-state', 'ready', { timeout: 60_000 });
  await expect(tools.getByTestId('tools-check')).toHaveAttribute('data-state', 'none');
  await expect(tools.getByTestId('tools_source-editor')).toHaveValue('');
  // the environment example, then a file of one's own that does not make an environment
  await tools.getByTestId('env_source-example').click();
  await expect(tools.getByTestId('env_source-editor')).toHaveValue(/I am thinking of a number/);
  await expect(tools.getByTestId('env-loaded')).toBeVisible({ timeout: 30_000 });
  await tools.getByTestId('env_source-file').setInputFiles({ name: 'mine.env.js', mimeType: 'text/javascript', buffer: Buffer.from('({ reset() {} })') });
  await expect(tools.getByTestId('env_source-editor')).toHaveValue('({ reset() {} })');
  await expect(tools.getByTestId('tools-error')).toContainText('the environment file must evaluate to a function', { timeout: 30_000 });
  await tools.getByRole('button', { name: 'Clear' }).nth(1).click();
  await expect(tools.getByTestId('tools-check')).toHaveAttribute('data-state', 'none');

  expect(errors.filter((e) => !/models\/|datasets\//.test(e))).toEqual([]);
});
