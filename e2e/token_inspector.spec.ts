// The token-level inspector after real steps with the built-in model: the page trains two optimizer steps on one
// rollout (num_iterations 2: the second pass is its own step, as in TRL, so its ratios move off 1;
// top_entropy_quantile 0.5, so some tokens are masked by entropy),
// then a completion in the rollouts panel opens token by token; every token's number, under each of the
// four colourings, equals what the worker sent in its step event, and the marks follow the step's flags.
import { expect, test } from '@playwright/test';
import { builtinPresent, collectErrors, openPlayground, setSetting } from './helpers/playground';

interface Trace { step: number; tokens: string[]; logp: number[]; entropy: number[]; ratio: number[]; contribution: number[]; flags: number[]; active: number }

test('a completion opens token by token with the numbers of the step that trained on it', async ({ page }) => {
  expect(builtinPresent(), 'the built-in model is not in public/models/tiny-puzzles/').toBe(true);
  const errors = collectErrors(page);
  // record the step events exactly as the engine worker posts them
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
  await openPlayground(page);
  await expect(page.getByTestId('model-status')).toHaveAttribute('data-state', 'ready', { timeout: 60_000 });
  await expect(page.getByTestId('dataset-status')).toHaveAttribute('data-state', 'ready', { timeout: 30_000 });
  await setSetting(page, 'max_steps', '2');
  await setSetting(page, 'eval_split', '0');
  await setSetting(page, 'num_iterations', '2');
  // the GRPO loss group: opened (and checked open) before typing into it
  const lossGroup = page.locator('details.group', { has: page.locator('[data-field="top_entropy_quantile"]') });
  await expect
    .poll(async () => {
      if (!(await lossGroup.evaluate((d) => (d as HTMLDetailsElement).open))) await lossGroup.locator('summary').click();
      return lossGroup.evaluate((d) => (d as HTMLDetailsElement).open);
    }, { timeout: 30_000 })
    .toBe(true);
  await setSetting(page, 'top_entropy_quantile', '0.5');
  await expect(page.getByTestId('settings-problems')).toHaveCount(0);

  await page.getByRole('button', { name: 'Start', exact: true }).click();
  await expect
    .poll(async () => {
      if (await page.getByTestId('run-error').count()) return `the run stopped: ${await page.getByTestId('run-error').textContent()}`;
      return await page.getByTestId('run-status').textContent();
    }, { timeout: 240_000 })
    .toBe('Finished');

  const sent = await page.evaluate(() => (window as unknown as { workerSteps: { step: number; groups: { completions: { text: string; advantage: number; trace?: unknown }[] }[] }[] }).workerSteps);
  expect(sent.length).toBe(2);
  // a group with a learning signal (advantages not all 0) among those sent with traces, else the first
  const gi = Math.max(0, sent[1].groups.findIndex((g) => g.completions[0].trace && g.completions.some((c) => c.advantage !== 0)));
  const trace = sent[1].groups[gi].completions[0].trace as Trace;
  expect(trace, 'the worker sent a token trace for the first group').toBeTruthy();
  expect(trace.step).toBe(2);

  await page.getByRole('tab', { name: 'Rollouts' }).click();
  const first = page.getByTestId('rollout-group').nth(gi).getByTestId('completion').first();
  await first.getByTestId('token-inspector-toggle').click();
  const inspector = first.getByTestId('token-inspector');
  await expect(inspector).toBeVisible();
  await expect(inspector).toHaveAttribute('data-step', '2');
  const tokens = inspector.getByTestId('token');
  await expect(tokens).toHaveCount(trace.tokens.length);

  for (const q of ['logp', 'entropy', 'ratio', 'contribution'] as const) {
    await inspector.getByTestId(`token-quantity-${q}`).check();
    await expect(inspector.getByTestId('token-strip')).toHaveAttribute('data-quantity', q);
    const shown = await tokens.evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset.value));
    expect(shown, q).toEqual(trace[q].map((x) => String(x)));
  }
  // the rollout's second pass (step 2): its ratios are not all 1
  expect(trace.ratio.some((r) => r !== 1)).toBe(true);
  // marks follow the step's flags: entropy-masked tokens (bit 4) and clipping (bits 1, 2)
  const marks = await tokens.evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset.marks ?? ''));
  trace.flags.forEach((f, j) => {
    expect(marks[j].includes('entropy-masked'), `token ${j}`).toBe((f & 4) !== 0);
    expect(marks[j].includes('clipped-low'), `token ${j}`).toBe((f & 1) !== 0);
    expect(marks[j].includes('clipped-high'), `token ${j}`).toBe((f & 2) !== 0);
    expect(marks[j].includes('truncation-masked'), `token ${j}`).toBe(j >= trace.active);
  });
  // over the whole step some tokens were kept and some masked by the entropy quantile
  const allFlags = sent[1].groups.flatMap((g) => g.completions.flatMap((c) => (c.trace as Trace | undefined)?.flags ?? []));
  expect(allFlags.some((f) => f & 4)).toBe(true);
  expect(allFlags.some((f) => !(f & 4))).toBe(true);

  // for the picture: this completion by log-prob, the next two by ratio and by advantage contribution
  await inspector.getByTestId('token-quantity-logp').check();
  for (const [k, q] of [[1, 'ratio'], [2, 'contribution']] as const) {
    const c = page.getByTestId('rollout-group').nth(gi).getByTestId('completion').nth(k);
    await c.getByTestId('token-inspector-toggle').click();
    await c.getByTestId(`token-quantity-${q}`).check();
    await expect(c.getByTestId('token-strip')).toHaveAttribute('data-quantity', q);
  }
  await page.getByTestId('rollout-group').nth(gi).scrollIntoViewIfNeeded();
  await page.addStyleTag({ content: '.runbar { position: static !important; }' });
  await page.getByTestId('rollout-group').nth(gi).screenshot({ path: 'test-results/token-inspector.png' });
  expect(errors).toEqual([]);
});
