// The host's check of every message that comes back from a sandbox (Node child process or the page's
// sandboxed frame). The sandbox runs hostile code: even though its runtime keeps the channel out of that
// code's reach, the host trusts nothing it receives. A message is a SandboxReply of the exact shape below,
// or it is refused (readSandboxReply returns a message saying what was wrong, and the host treats the
// sandbox as broken: it is stopped and the request in flight fails with that message, never a number).
//
// A `result`'s values are checked one by one by the reward host (custom.ts): a value that is neither
// null nor a finite number becomes null with an error for that row.

import type { SandboxReply } from './sandbox_core';

const MAX_TEXT = 1 << 20;
const MAX_ITEMS = 1 << 16;

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
const isText = (v: unknown): v is string => typeof v === 'string' && v.length <= MAX_TEXT;
const isId = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v > 0;
const isTextList = (v: unknown): v is string[] => Array.isArray(v) && v.length <= MAX_ITEMS && v.every(isText);

/** Only these keys may appear, and each must be present unless optional. */
function keysAre(o: Record<string, unknown>, required: string[], optional: string[] = []): boolean {
  const keys = Object.keys(o);
  return required.every((k) => Object.prototype.hasOwnProperty.call(o, k)) && keys.every((k) => required.includes(k) || optional.includes(k));
}

/** The reply, or a message saying why the value is not one the sandbox runtime sends. */
export function readSandboxReply(value: unknown): { reply: SandboxReply } | { problem: string } {
  const bad = (why: string) => ({ problem: `the sandbox sent a malformed reply (${why}); it was stopped` });
  if (!isObject(value) || typeof value.type !== 'string') return bad('not an object with a type');
  const v = value;
  switch (v.type) {
    case 'ready':
      return keysAre(v, ['type']) ? { reply: { type: 'ready' } } : bad('ready with extra fields');
    case 'init_error':
      return keysAre(v, ['type', 'message']) && isText(v.message) ? { reply: { type: 'init_error', message: v.message } } : bad('init_error without a message');
    case 'checked':
      return keysAre(v, ['type', 'message']) && (v.message === null || isText(v.message)) ? { reply: { type: 'checked', message: v.message } } : bad('checked without a message or null');
    case 'result': {
      if (!keysAre(v, ['type', 'id', 'values', 'errors']) || !isId(v.id)) return bad('result without a request id');
      if (!Array.isArray(v.values) || v.values.length > MAX_ITEMS) return bad('result without a list of values');
      if (!isTextList(v.errors)) return bad('result whose errors are not text');
      // values are kept as sent: the reward host turns anything but null or a finite number into a row error
      return { reply: { type: 'result', id: v.id, values: v.values.slice() as (number | number[] | null)[], errors: v.errors.slice() } };
    }
    case 'tools_ready': {
      if (!keysAre(v, ['type', 'tools', 'env'], ['sources']) || typeof v.env !== 'boolean') return bad('tools_ready without tools and env');
      if (!Array.isArray(v.tools) || v.tools.length > MAX_ITEMS) return bad('tools_ready without a list of tools');
      const tools: { name: string; description: string; parameters: unknown }[] = [];
      for (const t of v.tools) {
        if (!isObject(t) || !keysAre(t, ['name', 'description', 'parameters']) || !isText(t.name) || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(t.name) || !isText(t.description) || !isObject(t.parameters)) {
          return bad('a tool that is not {name, description, parameters}');
        }
        tools.push({ name: t.name, description: t.description, parameters: t.parameters });
      }
      if (v.sources !== undefined && !isTextList(v.sources)) return bad('tool sources that are not text');
      return { reply: { type: 'tools_ready', tools, env: v.env, sources: v.sources as string[] | undefined } };
    }
    case 'call_result': {
      if (!keysAre(v, ['type', 'id'], ['json', 'error']) || !isId(v.id)) return bad('call_result without a request id');
      if ((v.json === undefined) === (v.error === undefined)) return bad('call_result with neither or both of json and error');
      if (v.error !== undefined) return isText(v.error) ? { reply: { type: 'call_result', id: v.id, error: v.error } } : bad('call_result whose error is not text');
      if (!isText(v.json)) return bad('call_result whose json is not text');
      try {
        JSON.parse(v.json);
      } catch {
        return bad('call_result whose json does not parse');
      }
      return { reply: { type: 'call_result', id: v.id, json: v.json } };
    }
    default:
      return bad(`unknown type ${JSON.stringify(String(v.type).slice(0, 40))}`);
  }
}

/** Most per-step scores a process reward may return for one completion. */
export const MAX_STEP_SCORES = 256;

/** A reward value as the host accepts it: null, a finite number, or (a process reward, step_separator) a list of
 * 1..MAX_STEP_SCORES finite numbers; anything else is that row's error. */
export function acceptValue(v: unknown): v is number | number[] | null {
  if (Array.isArray(v)) return v.length >= 1 && v.length <= MAX_STEP_SCORES && v.every((x) => typeof x === 'number' && Number.isFinite(x));
  return v === null || (typeof v === 'number' && Number.isFinite(v));
}

/**
 * A request id nobody can guess: a random integer in [1, 2^52]. The runtime echoes the id of the request it
 * answers; code that reached the channel back without seeing the request (which only the runtime's closure
 * holds) cannot name the request in flight, so its forged answer is refused as a reply to no request.
 */
export function requestId(): number {
  const w = new Uint32Array(2);
  globalThis.crypto.getRandomValues(w);
  return (w[0] & 0xfffff) * 0x100000000 + w[1] + 1; // 52 random bits, + 1: never 0, always a safe integer
}
