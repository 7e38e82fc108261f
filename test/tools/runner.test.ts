// The tools-and-environments sandbox: tools and environments run in the locked reward worker; every kind
// of bad tool or environment becomes an error for that call, never a rejected promise or a stuck run.
import { afterAll, describe, expect, test } from 'vitest';
import { ToolRunner } from '../../src/grpo/tools/runner';

const TOOLS = `[
  { name: 'add', description: 'Adds two integers', parameters: { type: 'object', properties: { a: { type: 'integer' }, b: { type: 'integer' } }, required: ['a', 'b'] },
    run: ({ a, b }) => a + b },
  { name: 'slow_ok', description: '', run: async () => { await new Promise((r) => setTimeout(r, 50)); return { fine: true }; } },
  { name: 'thrower', description: '', run: () => { throw new Error('boom'); } },
  { name: 'spin', description: '', run: () => { for (;;) {} } },
  { name: 'never', description: '', run: () => new Promise(() => {}) },
  { name: 'not_json', description: '', run: () => () => 1 },
  { name: 'bigint', description: '', run: () => 10n },
  { name: 'circular', description: '', run: () => { const o = {}; o.self = o; return o; } },
  { name: 'nothing', description: '', run: () => undefined },
  { name: 'net', description: '', run: async () => { await fetch('http://127.0.0.1:1/'); return 'reached'; } },
  { name: 'net2', description: '', run: () => { const x = new XMLHttpRequest(); return 'reached'; } },
  { name: 'escape', description: '', run: () => (function(){}).constructor('return process')() },
]`;

const ENV = `() => {
  let target = 0, turns = 0;
  return {
    reset(row) { target = Number(row.answer); turns = 0; return 'Guess a number from 1 to 9.'; },
    step(text) {
      turns++;
      if (text === 'throw') throw new Error('env broke');
      if (text === 'net') fetch('http://127.0.0.1:1/');
      const g = Number((/\\d+/.exec(text) || ['NaN'])[0]);
      if (g === target) return { observation: 'correct', reward: 1, done: true };
      return { observation: Number.isNaN(g) ? 'say a number' : g < target ? 'higher' : 'lower', reward: -0.1, done: false };
    },
  };
}`;

let runner: ToolRunner;
afterAll(() => runner?.dispose());

describe('ToolRunner', () => {
  test('loads tools (names, descriptions, schemas) and an environment', async () => {
    runner = await ToolRunner.create(TOOLS, ENV, { timeoutMs: 500 });
    expect(runner.tools.map((t) => t.name)).toContain('add');
    expect(runner.tools[0]).toEqual({ name: 'add', description: 'Adds two integers', parameters: expect.objectContaining({ required: ['a', 'b'] }) });
    expect(runner.hasEnv).toBe(true);
  });

  test('a call returns its JSON value', async () => {
    expect(await runner.callTool('add', { a: 2, b: 40 })).toEqual({ ok: true, value: 42 });
  });

  test('throwing, non-JSON, undefined, unknown tool and network attempts are errors', async () => {
    const err = async (name: string) => {
      const r = await runner.callTool(name, {});
      expect(r.ok, name).toBe(false);
      return r.ok ? '' : r.error;
    };
    expect(await err('thrower')).toMatch(/boom/);
    expect(await err('not_json')).toMatch(/not JSON-serialisable/);
    expect(await err('bigint')).toMatch(/BigInt|serialize/i);
    expect(await err('circular')).toMatch(/circular|serialisable/i);
    expect(await err('nothing')).toMatch(/not JSON-serialisable/);
    expect(await err('no_such_tool')).toMatch(/unknown tool "no_such_tool"/);
    // the message names what ran: a tool here (an environment below; a custom reward in test/grpo/rewards_custom.test.ts)
    expect(await err('net')).toMatch(/fetch is blocked in the tools sandbox \(tool "net"\): a tool has no network access/);
    expect(await err('net2')).toMatch(/XMLHttpRequest is blocked in the tools sandbox \(tool "net2"\): a tool has no network access/);
    expect(await err('escape')).toMatch(/not a function|undefined/);
  });

  test('a hanging call times out without holding an answering one; the worker restarts', async () => {
    const [slow, never] = await Promise.all([runner.callTool('slow_ok', {}), runner.callTool('never', {})]);
    expect(slow).toEqual({ ok: true, value: { fine: true } });
    expect(never).toMatchObject({ ok: false, timedOut: true });
    const spin = await runner.callTool('spin', {});
    expect(spin).toMatchObject({ ok: false, timedOut: true });
    expect(runner.restarts).toBeGreaterThanOrEqual(1);
    expect(await runner.callTool('add', { a: 1, b: 1 })).toEqual({ ok: true, value: 2 });
  });

  test('environments: one per slot, reset then steps; a throwing step is an error', async () => {
    expect(await runner.envReset(0, { answer: '7' })).toEqual({ ok: true, value: 'Guess a number from 1 to 9.' });
    expect(await runner.envReset(1, { answer: '3' })).toMatchObject({ ok: true });
    expect(await runner.envStep(0, 'I guess 5')).toEqual({ ok: true, value: { observation: 'higher', reward: -0.1, done: false } });
    expect(await runner.envStep(1, 'I guess 5')).toEqual({ ok: true, value: { observation: 'lower', reward: -0.1, done: false } });
    expect(await runner.envStep(0, '7')).toEqual({ ok: true, value: { observation: 'correct', reward: 1, done: true } });
    expect(await runner.envStep(1, 'throw')).toMatchObject({ ok: false, error: expect.stringMatching(/env broke/) });
    expect(await runner.envStep(0, 'net')).toMatchObject({ ok: false, error: expect.stringMatching(/fetch is blocked in the environment sandbox \(step\): an environment has no network access/) });
    expect(await runner.envStep(9, 'x')).toMatchObject({ ok: false, error: expect.stringMatching(/no environment/) });
  });

  test('bad files are refused with a message', async () => {
    await expect(ToolRunner.create('{ name: 1 }', null, { timeoutMs: 500 })).rejects.toThrow(/must evaluate to an array/);
    await expect(ToolRunner.create('[{ name: "a b", run: () => 1 }]', null, { timeoutMs: 500 })).rejects.toThrow(/name must be an identifier/);
    await expect(ToolRunner.create('[{ name: "a" }]', null, { timeoutMs: 500 })).rejects.toThrow(/run must be a function/);
    await expect(ToolRunner.create('[', null, { timeoutMs: 500 })).rejects.toThrow(/does not compile/);
    await expect(ToolRunner.create(null, '42', { timeoutMs: 500 })).rejects.toThrow(/environment file must evaluate to a function/);
    await expect(ToolRunner.create('import("x")', null, { timeoutMs: 500 })).rejects.toThrow(/may not import/);
    // a syntax error names its line; an unfinished source says so
    await expect(ToolRunner.create('[\n  { name: "a", run: () => 1 },\n  { name: "b" run: () => 2 },\n]', null, { timeoutMs: 500 })).rejects.toThrow(/does not compile: SyntaxError: .* \(line 3: \{ name: "b" run: \(\) => 2 \},\)/);
    await expect(ToolRunner.create('[\n  { name: "a", run: () => 1 },\n', null, { timeoutMs: 500 })).rejects.toThrow(/does not compile: .*no one line holds it: an unclosed or extra bracket/);
    await expect(ToolRunner.create(null, '() => ({\n  reset() { return "x" },\n  step(t) { return t t },\n})', { timeoutMs: 500 })).rejects.toThrow(/environment file source does not compile: .*\(line 3: /);
    // bad argument schemas
    await expect(ToolRunner.create('[{ name: "a", parameters: { type: "string" }, run: () => 1 }]', null, { timeoutMs: 500 })).rejects.toThrow(/tool "a": parameters must describe an object of named arguments \(type "object"\), got type "string"/);
    await expect(ToolRunner.create('[{ name: "a", parameters: { type: "object", properties: { x: { type: "string" } }, required: ["y"] }, run: () => 1 }]', null, { timeoutMs: 500 })).rejects.toThrow(/"required" names "y", which "properties" does not define/);
    await expect(ToolRunner.create('[{ name: "a", parameters: 3, run: () => 1 }]', null, { timeoutMs: 500 })).rejects.toThrow(/parameters must be a JSON schema object, got 3/);
    // network use while the file loads names the file
    await expect(ToolRunner.create('(() => { fetch("http://127.0.0.1:1/"); return []; })()', null, { timeoutMs: 500 })).rejects.toThrow(/fetch is blocked in the tools sandbox \(loading the tools file\): a tool has no network access/);
  });
});
