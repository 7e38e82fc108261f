// The page's sandbox frame (public/sandbox_frame.html) and the host's check of replies (sandbox_reply.ts).
// The frame's policy must name its inline script by the script's exact hash (an edit to one without the
// other leaves the sandbox unable to start), forbid every network source and allow only what the runtime
// needs; the app's own policy must admit the frame. What e2e/sandbox_network.spec.ts proves in Chromium
// rests on these.
import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CONTENT_SECURITY_POLICY } from '../../vite.config';
import { readSandboxReply } from '../../src/grpo/rewards/sandbox_reply';
import { FRAME_WORKER_SOURCE, SANDBOX_FRAME_FILE } from '../../src/grpo/rewards/sandbox_browser';

const html = readFileSync(fileURLToPath(new URL(`../../public/${SANDBOX_FRAME_FILE}`, import.meta.url)), 'utf8');
const policyOf = (text: string) =>
  new Map(
    text
      .split(';')
      .map((d) => d.trim().split(/\s+/))
      .filter((d) => d[0])
      .map(([name, ...values]) => [name, values]),
  );

describe('the sandbox frame', () => {
  const meta = /<meta http-equiv="Content-Security-Policy" content="([^"]+)">/.exec(html);
  const scripts = [...html.matchAll(/<script>([\s\S]*?)<\/script>/g)].map((m) => m[1]);

  it('has one inline script, named in its policy by its hash, and no other script source', () => {
    expect(meta).not.toBeNull();
    expect(scripts).toHaveLength(1);
    expect(html).not.toMatch(/<script[^>]+src=/);
    const hash = createHash('sha256').update(scripts[0], 'utf8').digest('base64');
    const policy = policyOf(meta![1]);
    expect(policy.get('script-src')).toEqual([`'sha256-${hash}'`, "'unsafe-eval'"]);
  });

  it('forbids every network source and allows only its own blob: worker', () => {
    const policy = policyOf(meta![1]);
    expect(policy.get('default-src')).toEqual(["'none'"]);
    expect(policy.get('worker-src')).toEqual(['blob:']);
    for (const d of ['connect-src', 'img-src', 'font-src', 'media-src', 'child-src', 'frame-src']) expect(policy.has(d), d).toBe(false);
    // the policy comes before the script
    expect(html.indexOf('Content-Security-Policy')).toBeLessThan(html.indexOf('<script>'));
  });

  it("is admitted by the app's policy, which itself keeps no 'unsafe-eval'", () => {
    const app = policyOf(CONTENT_SECURITY_POLICY);
    expect(app.get('frame-src')).toEqual(["'self'"]);
    expect(CONTENT_SECURITY_POLICY).not.toContain('unsafe-eval');
  });

  it("keeps the runtime's port in a closure, read and written through intrinsics taken before user code", () => {
    expect(FRAME_WORKER_SOURCE).toContain('const send = MessagePort.prototype.postMessage;');
    expect(FRAME_WORKER_SOURCE).toContain('(reply) => apply(send, port, [reply])');
    // the worker's text is a classic script the frame can start: it compiles
    expect(() => new Function(FRAME_WORKER_SOURCE)).not.toThrow();
  });
});

describe('readSandboxReply', () => {
  it('accepts what the runtime sends', () => {
    expect(readSandboxReply({ type: 'result', id: 3, values: [1, null], errors: ['row 1: x'] })).toEqual({ reply: { type: 'result', id: 3, values: [1, null], errors: ['row 1: x'] } });
    expect(readSandboxReply({ type: 'call_result', id: 2, json: '{"a":1}' })).toEqual({ reply: { type: 'call_result', id: 2, json: '{"a":1}' } });
    expect(readSandboxReply({ type: 'tools_ready', tools: [{ name: 'calc', description: '', parameters: { type: 'object' } }], env: false, sources: ['() => 1'] })).toHaveProperty('reply');
  });

  it('refuses forged or malformed replies with a message', () => {
    const refused = [
      null,
      'result',
      [1],
      { type: 'result', id: 0, values: [1], errors: [] },
      { type: 'result', id: '1', values: [1], errors: [] },
      { type: 'result', id: 1, values: '4', errors: [] },
      { type: 'result', id: 1, values: [1], errors: [7] },
      { type: 'result', id: 1, values: [1], errors: [], extra: true },
      { type: 'call_result', id: 1 },
      { type: 'call_result', id: 1, json: '{', },
      { type: 'call_result', id: 1, json: '1', error: 'x' },
      { type: 'tools_ready', tools: [{ name: 'bad name', description: '', parameters: {} }], env: false },
      { type: 'tools_ready', tools: [], env: 'yes' },
      { type: 'ready', now: 1 },
      { type: 'takeover' },
    ];
    for (const v of refused) expect(readSandboxReply(v), JSON.stringify(v)).toEqual({ problem: expect.stringMatching(/^the sandbox sent a malformed reply \(.+\); it was stopped$/) });
  });
});

describe('the reward host', () => {
  it('turns a value that is not null or a finite number into that row\'s error, never a number', async () => {
    const { CustomReward } = await import('../../src/grpo/rewards');
    // a sandbox whose replies were forged: well-formed, but holding a string, NaN and an object as values
    const factory = async () => {
      let onMessage: (r: unknown) => void = () => {};
      return {
        post: (q: { type: string; id?: number }) => {
          if (q.type === 'init') queueMicrotask(() => onMessage({ type: 'ready' }));
          if (q.type === 'eval') queueMicrotask(() => onMessage({ type: 'result', id: q.id, values: ['4', Number.NaN, { valueOf: () => 9 }, 2], errors: [] }));
        },
        onMessage: (h: (r: unknown) => void) => void (onMessage = h),
        onError: () => {},
        terminate: () => {},
      };
    };
    const r = new CustomReward('() => 1', { factory: factory as never });
    const row = { prompt: 'p', completion: 'c', answer: 'a', row: {} };
    const out = await r.evaluate([row, row, row, row]);
    r.dispose();
    expect(out.values).toEqual([null, null, null, 2]);
    expect(out.errors).toEqual([0, 1, 2].map((i) => `row ${i}: the sandbox sent a value that is not a number or null; the row scores null`));
  });
});
