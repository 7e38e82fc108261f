// The command line as a newcomer runs it: real processes, real stdout/stderr and exit codes.
import { describe, expect, test } from 'vitest';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const MODEL = fileURLToPath(new URL('../../shared/models/stories260K/stories260K.bin', import.meta.url));

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, ['bin/grpo-playground.mjs', ...args], { cwd: ROOT, encoding: 'utf8', timeout: 300_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('grpo-playground CLI', () => {
  test('generate --json reproduces llama2.c greedily for stories260K', () => {
    const r = cli('generate', '--model', MODEL, '--prompt', 'Once upon a time', '--temperature', '0', '--max-new-tokens', '40', '--json');
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.prompt_ids).toEqual([1, 403, 407, 261, 378]);
    expect(out.completion_ids.length).toBe(40);
    expect(out.text.startsWith(', there was a little girl named Lily. She loved to play outside in the park.')).toBe(true);
  });

  test('logprobs --json gives one log-prob per completion token, all <= 0', () => {
    const r = cli('logprobs', '--model', MODEL, '--prompt', 'Once upon a time', '--completion', ', there was a', '--json');
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.completion_ids.length).toBe(out.logprobs.length);
    expect(out.logprobs.length).toBeGreaterThan(0);
    for (const lp of out.logprobs) expect(lp).toBeLessThanOrEqual(0);
    // the greedy continuation is likely under the model
    expect(out.logprobs[0]).toBeGreaterThan(-1);
  });

  test('errors are one line on stderr with a non-zero exit and no stack trace', () => {
    for (const args of [
      ['generate', '--model', 'does-not-exist.bin', '--prompt', 'x'],
      ['generate', '--prompt', 'x'],
      ['generate', '--model', MODEL, '--prompt', 'x', '--temperature', 'hot'],
      ['generate', '--model', MODEL, '--prompt', 'x', '--bogus'],
      ['frobnicate'],
    ]) {
      const r = cli(...args);
      expect(r.code, args.join(' ')).not.toBe(0);
      const lines = r.stderr.split('\n').filter((l) => l.trim() && !l.startsWith('Warning:') && !l.startsWith(' - ') && !/^\s+at /.test(l));
      expect(lines.length, r.stderr).toBe(1);
      expect(r.stderr).not.toMatch(/\n\s+at .*\.ts:\d+/);
    }
  });
});
