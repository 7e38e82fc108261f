// The Node sandbox for user code holds even where the parser check would be bypassed: the real sandbox host
// (src/grpo/rewards/sandbox_node.ts, a child process under Node's permission model with an empty
// environment) is sent hostile rewards, tools and environments directly, with HF_TOKEN set in this (the
// parent) process. None may read a file, write one, start a process or a worker, or see HF_TOKEN; each try
// costs its row or call with a message, never a number. Replies are checked: a forged reply is an error.
// Then the real CLI refuses a tools file and a config's custom reward that hide import() behind a comment.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createNodeSandbox, permissionFlag, sandboxArgs } from '../../src/grpo/rewards/sandbox_node';
import type { SandboxHandle, SandboxReply, SandboxRequest } from '../../src/grpo/rewards/sandbox_core';
import { CustomReward } from '../../src/grpo/rewards';
import { ToolRunner } from '../../src/grpo/tools/runner';
import { STORIES } from '../grpo/fixtures';

vi.setConfig({ testTimeout: 60_000 });
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TOKEN = 'hf_sandboxTestSecret123';
const dir = mkdtempSync(join(tmpdir(), 'grpo-sandbox-'));
const SECRET = join(dir, 'secret.txt');
const marker = (name: string) => join(dir, `${name}.marker`);
const lit = (s: string) => JSON.stringify(s);
let saved: string | undefined;

beforeAll(() => {
  saved = process.env.HF_TOKEN;
  process.env.HF_TOKEN = TOKEN;
  writeFileSync(SECRET, TOKEN);
});
afterAll(() => {
  if (saved === undefined) delete process.env.HF_TOKEN;
  else process.env.HF_TOKEN = saved;
});

/** Sends requests to a fresh real sandbox process, skipping every host-side check, and collects replies. */
async function raw(requests: SandboxRequest[], until: (r: SandboxReply[]) => boolean, timeoutMs = 8000): Promise<{ replies: SandboxReply[]; died: string | null }> {
  const h: SandboxHandle = await createNodeSandbox();
  const replies: SandboxReply[] = [];
  let died: string | null = null;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, timeoutMs);
    h.onMessage((r) => {
      replies.push(r);
      if (until(replies)) {
        clearTimeout(timer);
        resolve();
      }
    });
    h.onError((m) => {
      died = m;
      clearTimeout(timer);
      resolve();
    });
    for (const q of requests) h.post(q);
  });
  h.terminate();
  return { replies, died };
}

const row = { prompt: 'p', completion: 'c', answer: 'a', row: {} };

/** Runs one reward source in the raw sandbox (no parser check) and returns its one row's value and error. */
async function rawReward(source: string): Promise<{ value: unknown; error: string }> {
  const { replies, died } = await raw(
    [{ type: 'init', source }, { type: 'eval', id: 1, rows: [row] }],
    (r) => r.some((x) => x.type === 'result' || x.type === 'init_error'),
  );
  const res = replies.find((x) => x.type === 'result') as Extract<SandboxReply, { type: 'result' }> | undefined;
  const init = replies.find((x) => x.type === 'init_error') as Extract<SandboxReply, { type: 'init_error' }> | undefined;
  return { value: res?.values[0], error: [init?.message, ...(res?.errors ?? []), died].filter(Boolean).join(' | ') };
}

describe('the Node sandbox process (parser bypassed)', () => {
  it('runs under the permission model with an empty environment', () => {
    expect(permissionFlag()).toMatch(/^--(experimental-)?permission$/);
    const args = sandboxArgs(permissionFlag()!);
    expect(args.some((a) => a.startsWith('--allow-'))).toBe(false);
    expect(args).toContain('--max-old-space-size=512');
    // Node >= 22 names the flag --permission; Node 20-21 --experimental-permission; before that there is none
    expect(permissionFlag(new Set(['--permission', '--experimental-permission']))).toBe('--permission');
    expect(permissionFlag(new Set(['--experimental-permission']))).toBe('--experimental-permission');
    expect(permissionFlag(new Set())).toBeNull();
  });

  it('cannot read a file, even with import() reaching node:fs', async () => {
    const out = await rawReward(`async () => (await import("node:fs")).readFileSync(${lit(SECRET)}, "utf8").length`);
    expect(out.value).toBeNull();
    expect(out.error).toMatch(/ERR_ACCESS_DENIED|Access to this API has been restricted/);
  });

  it('cannot write a file or start a process', async () => {
    const w = await rawReward(`async () => { (await import("node:fs")).writeFileSync(${lit(marker('write'))}, "x"); return 1; }`);
    expect(w.value).toBeNull();
    const s = await rawReward(`async () => { (await import("node:child_process")).execFileSync("/bin/sh", ["-c", ${lit(`echo x > ${marker('spawn')}`)}]); return 1; }`);
    expect(s.value).toBeNull();
    expect(s.error).toMatch(/ERR_ACCESS_DENIED|Access to this API has been restricted/);
    const t = await rawReward(`async () => { const { Worker } = await import("node:worker_threads"); new Worker("require('fs').writeFileSync(${lit(marker('worker')).replace(/"/g, "\\'")}, 'x')", { eval: true }); return 1; }`);
    expect(t.value).toBeNull();
    expect(t.error).toMatch(/ERR_ACCESS_DENIED|Access to this API has been restricted/);
    expect(existsSync(marker('write'))).toBe(false);
    expect(existsSync(marker('spawn'))).toBe(false);
    expect(existsSync(marker('worker'))).toBe(false);
  });

  it('does not see HF_TOKEN, HOME or any variable of the parent', async () => {
    const out = await rawReward('async () => { const env = (await import("node:process")).default.env; if (Object.keys(env).length) throw new Error("env: " + JSON.stringify(env)); return 0; }');
    expect(out.error).toBe('');
    expect(out.value).toBe(0);
  });

  it('a tool and an environment get the same walls', async () => {
    const tools = `[{ name: "read", run: async () => (await import("node:fs")).readFileSync(${lit(SECRET)}, "utf8") }]`;
    const env = '() => ({ reset: async () => JSON.stringify((await import("node:process")).default.env), step: async () => { (await import("node:child_process")).execSync("id"); return { observation: "", reward: 1, done: true }; } })';
    const { replies } = await raw(
      [
        { type: 'tools_init', tools, env },
        { type: 'tool_call', id: 1, name: 'read', args: {} },
        { type: 'env_reset', id: 2, slot: 0, row: {} },
        { type: 'env_step', id: 3, slot: 0, text: 'x' },
      ],
      (r) => r.filter((x) => x.type === 'call_result').length === 3,
    );
    const calls = new Map(replies.flatMap((r) => (r.type === 'call_result' ? [[r.id, r]] : [])));
    expect(calls.get(1)?.error).toMatch(/ERR_ACCESS_DENIED|Access to this API has been restricted/);
    expect(calls.get(2)).toEqual({ type: 'call_result', id: 2, json: JSON.stringify('{}') });
    expect(calls.get(3)?.error).toMatch(/ERR_ACCESS_DENIED|Access to this API has been restricted/);
    expect(JSON.stringify(replies)).not.toContain(TOKEN);
  });

  it('a forged reply (wrong shape, a non-number value) is an error, never a number', async () => {
    // the runtime would never send these; a host-side check refuses them whoever sent them
    const h = await createNodeSandbox();
    const died = new Promise<string>((resolve) => {
      h.onError(resolve);
      setTimeout(() => resolve('no error within 8 s'), 8000);
    });
    const got: SandboxReply[] = [];
    h.onMessage((r) => got.push(r));
    // the child's own channel, reached the way a hole would reach it: a reward that sends a forged message
    h.post({ type: 'init', source: 'async () => { const p = (await import("node:process")).default; p.send({ type: "result", id: 1, values: "4", errors: [] }); await new Promise((r) => setTimeout(r, 2000)); return 1; }' });
    h.post({ type: 'eval', id: 1, rows: [row] });
    expect(await died).toMatch(/malformed reply \(result without a list of values\)/);
    expect(got.filter((r) => r.type === 'result')).toEqual([]);
    h.terminate();
  });
});

describe('a forged answer that reached the channel (parser bypassed)', () => {
  it('names no request the host is waiting for, so the batch fails instead of scoring the forged number', async () => {
    // a factory that swaps the reward's source for a hostile one on its way to the real sandbox process,
    // as if the parser check had been bypassed: it answers request 1, 2, ... with 42 before the runtime can
    const hostile = 'async () => { const p = (await import("node:process")).default; for (let id = 1; id < 50; id++) p.send({ type: "result", id, values: [42], errors: [] }); await new Promise((r) => setTimeout(r, 300)); return 1; }';
    const factory = async () => {
      const h = await createNodeSandbox();
      return { ...h, post: (q: SandboxRequest) => h.post(q.type === 'init' ? { ...q, source: hostile } : q) };
    };
    const r = new CustomReward('() => 1', { timeoutMs: 5000, factory });
    try {
      const out = await r.evaluate([row]);
      expect(out.values).toEqual([null]);
      expect(out.errors).toEqual(['the custom reward worker sent an unexpected reply; it was restarted']);
    } finally {
      r.dispose();
    }
  });
});

describe('rewards, tools and environments through the public API', () => {
  it('a huge allocation costs its batch with a message (the heap limit), and the next batch runs afresh', async () => {
    const r = new CustomReward('(p) => { if (p === "big") { const a = []; for (;;) a.push(new Array(100000).fill(1.5)); } return 1; }', { timeoutMs: 30_000 });
    try {
      const out = await r.evaluate([{ ...row, prompt: 'big' }]);
      expect(out.values).toEqual([null]);
      expect(out.errors).toEqual(['the custom reward worker stopped: the sandbox process ran out of memory (over 512 MiB of heap) and was stopped']);
      expect((await r.evaluate([row])).values).toEqual([1]);
    } finally {
      r.dispose();
    }
  });

  const tricks: [string, string][] = [
    ['process.env.HF_TOKEN', '() => process.env.HF_TOKEN.length'],
    ['globalThis.process', '() => globalThis.process.env.HF_TOKEN.length'],
    ["require('fs')", '() => require("fs").readFileSync(' + lit(SECRET) + ', "utf8").length'],
    ['process.binding', '() => process.binding("fs") ? 1 : 0'],
    ['the Function constructor', '() => (function () {}).constructor("return process")().env.HF_TOKEN.length'],
    ['the async function constructor', 'async () => (await (async function () {}).constructor("return process")()).env.HF_TOKEN.length'],
    ['an arrow\'s constructor via the prototype chain', '() => Object.getPrototypeOf(() => 0).constructor("return globalThis.process")().env.HF_TOKEN.length'],
  ];
  for (const [name, source] of tricks) {
    it(`a reward using ${name} gets an error for its row, not the token`, async () => {
      const r = new CustomReward(source, { timeoutMs: 3000 });
      try {
        const out = await r.evaluate([row]);
        expect(out.values).toEqual([null]);
        expect(out.errors.join(' ')).not.toContain(TOKEN);
        expect(out.errors.length).toBe(1);
      } finally {
        r.dispose();
      }
    });
  }

  it('a tool and an environment cannot read the token or a file', async () => {
    const runner = await ToolRunner.create(
      '[{ name: "peek", run: () => { try { return String(process.env.HF_TOKEN); } catch (e) { return "no: " + e.message; } } }]',
      '() => ({ reset: () => { try { return (function () {}).constructor("return process")().env.HF_TOKEN; } catch (e) { return "no"; } }, step: () => ({ observation: "x", done: true, reward: 0 }) })',
      { timeoutMs: 3000 },
    );
    try {
      const tool = await runner.callTool('peek', {});
      expect(JSON.stringify(tool)).not.toContain(TOKEN);
      expect(tool).toEqual({ ok: true, value: expect.stringMatching(/^no: /) });
      const env = await runner.envReset(0, {});
      expect(JSON.stringify(env)).not.toContain(TOKEN);
    } finally {
      runner.dispose();
    }
  });
});

describe('the CLI', () => {
  const data = join(dir, 'd.jsonl');
  writeFileSync(data, '{"prompt": "Tom saw a", "answer": "dog"}\n{"prompt": "Sue had a", "answer": "dog"}\n');
  const leak = marker('cli');
  // evaluated when the file loads: would copy HF_TOKEN and a file into the marker if import() got through
  const hostile = `(import/**/("node:fs").then(async (fs) => fs.writeFileSync(${lit(leak)}, (await import("node:process")).default.env.HF_TOKEN + fs.readFileSync(${lit(SECRET)}, "utf8"))), "not a list of tools")`;

  function cli(args: string[]) {
    return spawnSync(process.execPath, ['bin/grpo-playground.mjs', 'train', '--model', STORIES, '--dataset', data, '--out', join(dir, 'out'), '--steps', '1', ...args], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 300_000,
      env: { ...process.env, HF_TOKEN: TOKEN },
    });
  }

  it('refuses a tools file that hides import() behind a comment, naming the file and the place', () => {
    const f = join(dir, 'hostile_tools.js');
    writeFileSync(f, hostile);
    const r = cli(['--tools', f]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/hostile_tools\.js: the tools file may not import modules: a dynamic import\(\.\.\.\) at line 1:2/);
    expect(existsSync(leak)).toBe(false);
  });

  it("refuses a config's custom reward that hides import() behind a comment", () => {
    const cfg = join(dir, 'cfg.json');
    writeFileSync(cfg, JSON.stringify({ reward_funcs: [{ name: 'custom', weight: 1, params: { source: `async () => (await import/**/("node:fs")).writeFileSync(${lit(leak)}, "x")` } }], learning_rate: -1 }));
    const r = cli(['--config', cfg]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/may not import modules: a dynamic import\(\.\.\.\) at line 1:20/);
    expect(existsSync(leak)).toBe(false);
  });
});
