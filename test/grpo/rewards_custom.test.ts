// The custom-reward sandbox in Node (a permission-limited child process): values, failures that cost only their batch,
// a hang that times out and a later batch that works again, and blocked network access.

import { afterEach, describe, expect, it } from 'vitest';
import { CustomReward, checkCustomRewardSource, checkCustomRewardSourceInSandbox, type SandboxRow } from '../../src/grpo/rewards';

const rows: SandboxRow[] = [
  { prompt: 'What is 2+2?', completion: 'The answer is 4', answer: '4', row: { id: 7, level: 'easy' } },
  { prompt: 'What is 3+3?', completion: 'I think 5', answer: '6', row: { id: 8, level: 'hard' } },
  { prompt: 'Capital of France?', completion: 'Paris', answer: 'Paris', row: { id: 9, level: 'easy' } },
];

const live: CustomReward[] = [];
function reward(source: string, timeoutMs = 2000): CustomReward {
  const r = new CustomReward(source, { timeoutMs });
  live.push(r);
  return r;
}

afterEach(() => {
  for (const r of live.splice(0)) r.dispose();
});

describe('CustomReward (Node worker)', () => {
  it('computes values from prompt, completion, answer and the whole row', async () => {
    const r = reward('(prompt, completion, answer, row) => completion.includes(answer) ? row.id : (row.level === "hard" ? null : 0)');
    const out = await r.evaluate(rows);
    expect(out).toEqual({ values: [7, null, 9], errors: [], timedOut: false });
    // a function declaration and an async function work too
    expect((await reward('function score(p, c) { return c.length; }').evaluate(rows.slice(0, 1))).values).toEqual([15]);
    expect((await reward('async (p, c, a) => (c === a ? 1 : 0)').evaluate(rows)).values).toEqual([0, 0, 1]);
  });

  it('a throwing function costs only the rows it threw on, with the message', async () => {
    const r = reward('(p, c, a, row) => { if (row.id === 8) throw new RangeError("no good: " + c); return 1; }');
    const out = await r.evaluate(rows);
    expect(out.values).toEqual([1, null, 1]);
    expect(out.errors).toEqual(['row 1: RangeError: no good: I think 5']);
    expect(out.timedOut).toBe(false);
  });

  it('a non-number, NaN, Infinity or undefined return scores null with a message', async () => {
    const r = reward('(p, c, a, row) => row.id === 7 ? "high" : row.id === 8 ? NaN : undefined');
    const out = await r.evaluate(rows);
    expect(out.values).toEqual([null, null, null]);
    expect(out.errors[0]).toBe('row 0: returned the string "high"; expected a finite number, a list of per-step numbers (with step_separator), or null for "not applicable"');
    expect(out.errors[1]).toMatch(/^row 1: returned NaN/);
    expect(out.errors[2]).toMatch(/^row 2: returned undefined \(did the function forget to return\?\)/);
    expect((await reward('() => Infinity').evaluate(rows.slice(0, 1))).errors[0]).toMatch(/returned Infinity/);
  });

  it('an infinite loop times out, the batch scores null, and the next batch runs in a fresh worker', async () => {
    const r = reward('(p, c, a, row) => { if (row.id === 8) { while (true) {} } return row.id; }', 500);
    const t0 = performance.now();
    const hung = await r.evaluate(rows);
    const waited = performance.now() - t0;
    expect(hung.timedOut).toBe(true);
    expect(hung.values).toEqual([null, null, null]);
    expect(hung.errors[0]).toMatch(/did not finish a batch of 3 within 500 ms/);
    expect(waited).toBeGreaterThanOrEqual(490);
    expect(waited).toBeLessThan(10_000);
    const next = await r.evaluate([rows[0], rows[2]]);
    expect(next).toEqual({ values: [7, 9], errors: [], timedOut: false });
  });

  it('removes module, process and code-from-text access before user code runs', async () => {
    const r = reward(
      '() => [typeof require, typeof process, typeof navigator, typeof indexedDB, typeof caches, typeof postMessage, typeof eval, typeof Function, typeof (function () {}).constructor, typeof (async () => {}).constructor].every((t) => t === "undefined") ? 1 : 0',
    );
    expect((await r.evaluate(rows.slice(0, 1))).values).toEqual([1]);
    // a string handed to a timer would be evaluated: refused
    const t = await reward('() => { setTimeout("1"); return 1; }').evaluate(rows.slice(0, 1));
    expect(t.errors[0]).toMatch(/^row 0: TypeError: setTimeout with a string of code is not allowed/);
  });

  // each of these would reach the network, load code, or start a worker that is not locked down
  const blockedCalls: [string, string, RegExp][] = [
    ['fetch', '() => fetch("http://127.0.0.1:9/")', /fetch is blocked in the custom reward sandbox: a reward function has no network access/],
    ['XMLHttpRequest', '() => { const x = new XMLHttpRequest(); x.open("GET", "http://127.0.0.1:9/"); x.send(); return 1; }', /XMLHttpRequest is blocked in the custom reward sandbox: a reward function has no network access/],
    ['WebSocket', '() => { new WebSocket("ws://127.0.0.1:9/"); return 1; }', /WebSocket is blocked in the custom reward sandbox/],
    ['EventSource', '() => { new EventSource("http://127.0.0.1:9/"); return 1; }', /EventSource is blocked in the custom reward sandbox/],
    ['importScripts', '() => { importScripts("http://127.0.0.1:9/x.js"); return 1; }', /importScripts is blocked in the custom reward sandbox: a reward function cannot load other code/],
    ['Worker', '() => { new Worker("data:text/javascript,1"); return 1; }', /Worker is blocked in the custom reward sandbox: a reward function cannot start workers/],
    ['self.fetch', '() => globalThis.fetch("http://127.0.0.1:9/")', /fetch is blocked/],
  ];
  for (const [name, source, message] of blockedCalls) {
    it(`blocks ${name} with a clear message, costing only that row`, async () => {
      const out = await reward(source).evaluate(rows.slice(0, 1));
      expect(out.values).toEqual([null]);
      expect(out.errors[0]).toMatch(new RegExp(`^row 0: Error: ${message.source}`));
    });
  }

  it('takes eval and the Function constructor away before the source itself is evaluated', async () => {
    // the source's own top level runs once, at load: it must not reach a compiler either
    const viaEval = reward('(eval("1"), () => 1)');
    const out = await viaEval.evaluate(rows.slice(0, 1));
    expect(out.values).toEqual([null]);
    expect(out.errors[0]).toMatch(/^the custom reward failed to load: TypeError: eval is not a function/);
    const viaCtor = await reward('((function () {}).constructor("return 1"), () => 1)').evaluate(rows.slice(0, 1));
    expect(viaCtor.errors[0]).toMatch(/^the custom reward failed to load: TypeError/);
  });

  it('checks syntax in a sandbox worker, and on a page thread never compiles the source itself', async () => {
    expect(await checkCustomRewardSourceInSandbox('(p, c) => c.length')).toBeNull();
    expect(await checkCustomRewardSourceInSandbox('(p, c) => { return c.length;')).toMatch(/^the custom reward source does not compile: SyntaxError/);
    // the check compiles without running: a source whose evaluation would hang still checks at once
    expect(await checkCustomRewardSourceInSandbox('(() => { while (true) {} })()')).toBeNull();
    // a page thread: there is a document, and any compiler call would be a CSP violation
    const g = globalThis as Record<string, unknown>;
    const realFunction = g.Function;
    g.document = {};
    g.Function = new Proxy(realFunction as object, {
      construct() {
        throw new Error('the page compiled user code');
      },
      apply() {
        throw new Error('the page compiled user code');
      },
    });
    try {
      expect(checkCustomRewardSource('(p, c) => c.length')).toBeNull();
      // the parser (acorn, src/grpo/rewards/code_check.ts) finds syntax errors on the page without compiling
      expect(checkCustomRewardSource('(p) => { return 1;')).toMatch(/does not compile: SyntaxError/);
      expect(checkCustomRewardSource('(p, c) => { return c.length;')).toMatch(/does not compile: SyntaxError/);
      expect(checkCustomRewardSource('async () => (await import("x")).y')).toMatch(/may not import modules/);
      // the constructor of a reward on the page refuses it at once, compiling nothing
      expect(() => reward('(p) => { return 1;')).toThrow(/^the custom reward source does not compile: SyntaxError/);
      // a source the parser accepts but that the page cannot compile is loaded in the sandbox, not here
      const r = reward('(p) => 1');
      expect((await r.evaluate(rows.slice(0, 1))).values).toEqual([1]);
    } finally {
      g.Function = realFunction;
      delete g.document;
    }
  });

  it('reports source problems at once, and a source that is not a function per batch', async () => {
    expect(() => new CustomReward('(p, c) => {')).toThrow(/the custom reward source does not compile/);
    expect(() => new CustomReward('   ')).toThrow(/source is empty/);
    expect(() => new CustomReward('async () => (await import("node:fs")).readFileSync')).toThrow(/may not import modules/);
    expect(checkCustomRewardSource('(p, c) => c.length')).toBeNull();
    const notFn = reward('42');
    const out = await notFn.evaluate(rows.slice(0, 2));
    expect(out.values).toEqual([null, null]);
    expect(out.errors).toEqual(['the custom reward must be a function (prompt, completion, answer, row) => number, but its source evaluates to 42']);
  });

  it('an empty batch needs no worker, and a disposed reward refuses work', async () => {
    const r = reward('() => 1');
    expect(await r.evaluate([])).toEqual({ values: [], errors: [], timedOut: false });
    r.dispose();
    await expect(r.evaluate(rows)).rejects.toThrow(/disposed/);
  });
});
