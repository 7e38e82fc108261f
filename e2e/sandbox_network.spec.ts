// User code in the page cannot reach the network (issue 23). A second HTTP server on another port counts
// every TCP connection it gets; the page's own policy would let the page reach it (connect-src admits
// http://127.0.0.1:*), so only the sandbox can keep user code away from it.
//
// 1. The sandbox frame itself (public/sandbox_frame.html), with a worker of the test's own that skips the
//    parser check and the runtime's lock-down: fetch, XMLHttpRequest, WebSocket, EventSource, importScripts
//    and import() of http:, blob: and data: URLs all fail, storage is refused (opaque origin), compiling
//    code still works. This is the wall that holds if everything in front of it failed.
// 2. Through the app: a custom reward ("Try on 5 rows"), a tools file and an environment file that try the
//    same each get an error; import() hidden behind a comment is refused by the parser with its place.
// 3. A short training run (stories260K), where the engine worker gets its sandboxes from the page through
//    the broker: a custom reward and a tools file that try the network at every turn; the run reports the
//    reward's errors and finishes.
// Neither makes a single connection to the second server.
import { expect, test } from '@playwright/test';
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { collectErrors, loadStories, openPlayground, setSetting, STORY_ROWS, uploadDataset } from './helpers/playground';

let server: Server;
let base = '';
const connections: string[] = [];
const sockets = new Set<Socket>();

test.beforeAll(async () => {
  server = createServer((req, res) => {
    connections.push(`${req.method} ${req.url}`);
    res.setHeader('Access-Control-Allow-Origin', '*');
    res.setHeader('Content-Type', req.url?.includes('events') ? 'text/event-stream' : 'text/javascript');
    res.end(req.url?.includes('events') ? 'data: hi\n\n' : 'export default 1; self.__loaded = 1;');
  });
  server.on('connection', (s) => {
    connections.push('tcp connection');
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.on('upgrade', (req) => connections.push(`upgrade ${req.url}`));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

test.afterAll(async () => {
  for (const s of sockets) s.destroy();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

test('the sandbox frame refuses every network and script source, even to code that skips every other check', async ({ page }) => {
  await openPlayground(page, '?autoload=0');
  // the second server is reachable from the page itself (so a silence below means the frame held)
  const fromPage = await page.evaluate(async (url) => (await fetch(`${url}/page`)).status, base);
  expect(fromPage).toBe(200);
  expect(connections).toContain('GET /page');
  connections.length = 0;

  const outcome = await page.evaluate(async (url) => {
    const frame = document.createElement('iframe');
    frame.setAttribute('sandbox', 'allow-scripts');
    const loaded = new Promise((resolve) => frame.addEventListener('load', resolve, { once: true }));
    frame.src = 'sandbox_frame.html';
    document.body.append(frame);
    await loaded;
    const run = new MessageChannel();
    const status = new MessageChannel();
    // no lock-down, no parser: the raw worker tries everything and reports how each try ended
    const source = `onmessage = async (ev) => {
      const port = ev.ports[0];
      const base = ${JSON.stringify(url)};
      const out = {};
      const attempt = async (name, f) => {
        try { await f(); out[name] = 'succeeded'; } catch (e) { out[name] = 'failed: ' + ((e && e.name) || e); }
      };
      const settle = (target, ok, bad) => new Promise((resolve, reject) => { target[ok] = resolve; target[bad] = () => reject(new Error(bad)); setTimeout(() => reject(new Error('no answer')), 3000); });
      await attempt('fetch', () => fetch(base + '/fetch'));
      await attempt('XMLHttpRequest', () => { const x = new XMLHttpRequest(); x.open('GET', base + '/xhr'); const p = settle(x, 'onload', 'onerror'); x.send(); return p; });
      await attempt('WebSocket', () => settle(new WebSocket(base.replace('http', 'ws') + '/ws'), 'onopen', 'onerror'));
      await attempt('EventSource', () => settle(new EventSource(base + '/events'), 'onmessage', 'onerror'));
      await attempt('importScripts', () => importScripts(base + '/script.js'));
      await attempt('import http', () => import(base + '/module.js'));
      await attempt('import blob', () => import(URL.createObjectURL(new Blob(['export default 1'], { type: 'text/javascript' }))));
      await attempt('import data', () => import('data:text/javascript,export default 1'));
      await attempt('indexedDB', () => { const r = indexedDB.open('steal'); return settle(r, 'onsuccess', 'onerror'); });
      await attempt('compile', () => { if (new Function('return 7')() !== 7) throw new Error('no'); });
      out.origin = self.origin;
      port.postMessage(out);
    };`;
    const reply = new Promise<Record<string, string>>((resolve) => {
      run.port1.onmessage = (ev) => resolve(ev.data);
      status.port1.onmessage = (ev) => {
        if (ev.data?.type === 'error') resolve({ error: ev.data.message });
      };
    });
    frame.contentWindow!.postMessage({ type: 'sandbox-boot', source }, '*', [run.port2, status.port2]);
    const out = await reply;
    // the frame has no access to the page either
    let pageReach = 'none';
    try {
      pageReach = String((frame.contentWindow as unknown as { document?: unknown }).document);
    } catch (e) {
      pageReach = `refused: ${(e as Error).name}`;
    }
    frame.remove();
    return { ...out, pageReach } as Record<string, string>;
  }, base);

  for (const name of ['fetch', 'XMLHttpRequest', 'WebSocket', 'EventSource', 'importScripts', 'import http', 'import blob', 'import data', 'indexedDB']) {
    expect(outcome[name], name).toMatch(/^failed: /);
  }
  expect(outcome.compile).toBe('succeeded'); // the runtime compiles user code: 'unsafe-eval' is the one hole it needs
  expect(outcome.origin).toBe('null'); // opaque: no storage, no cookies, not the page's origin
  expect(outcome.pageReach).toMatch(/^refused: SecurityError/);
  await page.waitForTimeout(500);
  expect(connections).toEqual([]);
});

test('a reward, a tool file and an environment file that try the network each get an error, and nothing reaches the server', async ({ page }) => {
  const errors = collectErrors(page);
  await openPlayground(page, '?autoload=0');
  connections.length = 0;
  const kinds = ['fetch', 'xhr', 'websocket', 'eventsource', 'importScripts'];
  await uploadDataset(page, 'net.jsonl', kinds.map((kind, i) => JSON.stringify({ prompt: `p${i}`, answer: `a${i}`, kind })).join('\n'));
  await page.locator('#add-reward').selectOption('custom');
  await page.getByRole('button', { name: 'Add reward' }).click();
  const source = [
    '(prompt, completion, answer, row) => {',
    `  const url = ${JSON.stringify(base)} + "/" + row.kind + "?c=" + encodeURIComponent(completion);`,
    '  if (row.kind === "fetch") return fetch(url).then(() => 1);',
    '  if (row.kind === "xhr") { const x = new XMLHttpRequest(); x.open("GET", url); x.send(); return 1; }',
    '  if (row.kind === "websocket") { new WebSocket(url.replace("http", "ws")); return 1; }',
    '  if (row.kind === "eventsource") { new EventSource(url); return 1; }',
    '  if (row.kind === "importScripts") { importScripts(url); return 1; }',
    '  return 0;',
    '}',
  ].join('\n');
  await page.getByTestId('custom-source').fill(source);
  await page.getByRole('button', { name: 'Try on 5 rows' }).click();
  const results = page.getByTestId('custom-try-results').locator('tbody tr');
  await expect(results).toHaveCount(5);
  for (const [i, name] of ['fetch', 'XMLHttpRequest', 'WebSocket', 'EventSource', 'importScripts'].entries()) {
    await expect(results.nth(i)).toContainText(`${name} is blocked in the custom reward sandbox`);
  }

  // import() of http:, blob: and data: URLs, however written, is refused before any sandbox sees it
  for (const [text, at] of [
    [`async () => (await import/**/(${JSON.stringify(`${base}/m.js`)})).default`, '1:20'],
    ['async () => (await import(\n  URL.createObjectURL(new Blob(["export default 1"], { type: "text/javascript" }))\n)).default', '1:20'],
    ['async (p, c) => {\n  const m = await import // data\n    ("data:text/javascript,export default 1");\n  return m.default;\n}', '2:19'],
  ]) {
    await page.getByTestId('custom-source').fill(text);
    await expect(page.getByTestId('custom-source-problem')).toContainText(`may not import modules: a dynamic import(...) at line ${at}`);
  }

  // a tools file and an environment file whose loading tries the network
  const tools = page.getByTestId('tools-panel');
  const toolsEditor = tools.getByTestId('tools_source-editor');
  await toolsEditor.fill(`(fetch(${JSON.stringify(`${base}/tools`)}), [{ name: "t", run: () => 1 }])`);
  await expect(tools.getByTestId('tools-error')).toContainText('fetch is blocked in the tools sandbox', { timeout: 30_000 });
  await toolsEditor.fill(`[{ name: "t", run: async () => (await import/* hidden */(${JSON.stringify(`${base}/tool.js`)})).default }]`);
  await expect(tools.getByTestId('tools-error')).toContainText('the tools file may not import modules: a dynamic import(...) at line 1:', { timeout: 30_000 });
  await toolsEditor.fill('');
  const envEditor = tools.getByTestId('env_source-editor');
  await envEditor.fill(`(new EventSource(${JSON.stringify(`${base}/events`)}), () => ({ reset() { return "x"; }, step() { return { observation: "", reward: 0, done: true }; } }))`);
  await expect(tools.getByTestId('tools-error')).toContainText('EventSource is blocked in the environment sandbox', { timeout: 30_000 });
  await envEditor.fill(`(new WebSocket(${JSON.stringify(`${base.replace('http', 'ws')}/env`)}), () => ({ reset() { return "x"; }, step() { return { observation: "", reward: 0, done: true }; } }))`);
  await expect(tools.getByTestId('tools-error')).toContainText('WebSocket is blocked in the environment sandbox', { timeout: 30_000 });
  await envEditor.fill('');

  await page.waitForTimeout(500);
  expect(connections).toEqual([]);
  // every sandbox the page opened was a sandboxed frame, and none is left behind
  await expect(page.locator('iframe[data-sandbox="user-code"]')).toHaveCount(0);
  expect(errors.filter((e) => !/tiny-puzzles|models\/|datasets\//.test(e))).toEqual([]);
});

test('a reward cannot capture the sandbox channel to forge its replies', async ({ page }) => {
  const errors = collectErrors(page);
  await openPlayground(page, '?autoload=0');
  await uploadDataset(page, 'forge.jsonl', [0, 1, 2, 3, 4].map((i) => JSON.stringify({ prompt: `p${i}`, answer: `a${i}` })).join('\n'));
  await page.locator('#add-reward').selectOption('custom');
  await page.getByRole('button', { name: 'Add reward' }).click();
  // every place a port could show itself as `this` or an argument is patched to send forged results (4242)
  const source = [
    '(prompt, completion, answer, row) => {',
    '  const apply = Reflect.apply, send = MessagePort.prototype.postMessage, fnProto = Object.getPrototypeOf(function () {});',
    '  const forge = (port, id) => { try { apply(send, port, [{ type: "result", id, values: [4242, 4242, 4242, 4242, 4242], errors: [] }]); } catch (e) {} };',
    '  MessagePort.prototype.postMessage = function (m) { forge(this, m && m.id); };',
    '  Object.defineProperty(MessageEvent.prototype, "data", { get() { forge(this.target, 1); forge(this.currentTarget, 1); return null; } });',
    '  fnProto.call = function (self, ...args) { if (self instanceof MessagePort) forge(self, args[0] && args[0].id); return apply(this, self, args); };',
    '  Reflect.apply = (f, self, args) => { if (self instanceof MessagePort) forge(self, args[0] && args[0].id); return apply(f, self, args); };',
    '  if (typeof postMessage !== "undefined" || typeof self.postMessage !== "undefined") return -1;',
    '  return 1;',
    '}',
  ].join('\n');
  await page.getByTestId('custom-source').fill(source);
  await page.getByRole('button', { name: 'Try on 5 rows' }).click();
  const results = page.getByTestId('custom-try-results').locator('tbody tr');
  await expect(results).toHaveCount(5);
  for (let i = 0; i < 5; i++) {
    await expect(results.nth(i).locator('td.num')).toContainText('1');
    await expect(results.nth(i)).not.toContainText('4242');
    await expect(results.nth(i)).not.toContainText('-1');
  }
  expect(errors.filter((e) => !/tiny-puzzles|models\/|datasets\//.test(e))).toEqual([]);
});

test('a training run whose reward and tools try the network: errors reported, the run finishes, nothing reaches the server', async ({ page }) => {
  const errors = collectErrors(page);
  await openPlayground(page);
  await loadStories(page);
  connections.length = 0;
  await uploadDataset(page, 'stories.jsonl', STORY_ROWS);
  await page.locator('[data-testid=reward-card] select').first().selectOption('contains');
  await page.locator('#add-reward').selectOption('custom');
  await page.getByRole('button', { name: 'Add reward' }).click();
  // each try throws (the runtime's stub, and the frame's policy under it); the reward throws what it saw
  const tries = [
    `() => fetch(${JSON.stringify(`${base}/reward`)})`,
    `() => { const x = new XMLHttpRequest(); x.open("GET", ${JSON.stringify(`${base}/reward-xhr`)}); x.send(); }`,
    `() => new WebSocket(${JSON.stringify(`${base.replace('http', 'ws')}/reward-ws`)})`,
    `() => new EventSource(${JSON.stringify(`${base}/reward-events`)})`,
    `() => importScripts(${JSON.stringify(`${base}/reward.js`)})`,
  ];
  await page
    .getByTestId('custom-source')
    .fill(`(p, completion) => { const seen = []; for (const t of [${tries.join(', ')}]) { try { t(); seen.push("went through"); } catch (e) { seen.push(e.message.split(":")[0]); } } throw new Error("network: " + seen.join("; ")); }`);
  const tools = page.getByTestId('tools-panel');
  await tools
    .getByTestId('tools_source-editor')
    .fill(`((() => { try { fetch(${JSON.stringify(`${base}/tools-load`)}); } catch (e) {} })(), [{ name: "ping", description: "pings", parameters: { type: "object", properties: {} }, run: () => fetch(${JSON.stringify(`${base}/tool`)}) }])`);
  await expect(tools.getByTestId('tools-check')).toHaveAttribute('data-state', 'ok', { timeout: 30_000 });
  await setSetting(page, 'max_steps', '2');
  await setSetting(page, 'num_generations', '4');
  await setSetting(page, 'max_completion_length', '8');
  await setSetting(page, 'lora_r', '4');
  await setSetting(page, 'lora_alpha', '8');
  await setSetting(page, 'eval_split', '0');
  await page.getByRole('button', { name: 'Start', exact: true }).click();
  await expect
    .poll(
      async () => {
        if (await page.getByTestId('run-error').count()) return `the run stopped: ${await page.getByTestId('run-error').textContent()}`;
        return page.getByTestId('run-status').textContent();
      },
      { timeout: 240_000 },
    )
    .toBe('Finished');
  await page.getByRole('tab', { name: 'Rollouts' }).click();
  const alert = page.getByRole('alert').filter({ hasText: 'Reward errors at step' });
  await expect(alert).toContainText('network: fetch is blocked in the custom reward sandbox; XMLHttpRequest is blocked in the custom reward sandbox; WebSocket is blocked in the custom reward sandbox; EventSource is blocked in the custom reward sandbox; importScripts is blocked in the custom reward sandbox');
  await page.waitForTimeout(500);
  expect(connections).toEqual([]);
  expect(errors.filter((e) => !/tiny-puzzles|models\/|datasets\//.test(e))).toEqual([]);
});
