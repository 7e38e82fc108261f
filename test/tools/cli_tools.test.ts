// `train --tools FILE.js` / `--env FILE.js` with files that do not load: one clear line naming the file and
// the problem, a non-zero exit, no stack trace (no GPU work is started).
import { describe, expect, test } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { STORIES } from '../grpo/fixtures';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'grpo-tools-'));
const file = (name: string, content: string) => {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
};
const data = file('d.jsonl', '{"prompt": "Tom saw a", "answer": "dog"}\n{"prompt": "Sue had a", "answer": "dog"}\n');

function expectOneLineError(args: string[], message: RegExp) {
  const r = spawnSync(process.execPath, ['bin/grpo-playground.mjs', 'train', '--model', STORIES, '--dataset', data, '--out', join(dir, 'out'), ...args], { cwd: ROOT, encoding: 'utf8', timeout: 300_000 });
  const lines = r.stderr.split('\n').filter((l) => l.trim() && !l.startsWith('Warning:') && !l.startsWith(' - ') && !/^\s+at /.test(l));
  expect(r.status, r.stdout).not.toBe(0);
  expect(lines.length, r.stderr).toBe(1);
  expect(lines[0]).toMatch(message);
  expect(r.stderr).not.toMatch(/\.ts:\d+/);
}

describe('train --tools / --env bad files', () => {
  test('missing file', () => expectOneLineError(['--tools', join(dir, 'nope.js')], /nope\.js: tools file not found/));
  test('syntax error', () => {
    const f = file('broken.js', '[{ name: "a", run: () => }]');
    expectOneLineError(['--tools', f], /broken\.js: the tools file source does not compile/);
  });
  test('not an array of tools', () => {
    const f = file('obj.js', '({ name: "a" })');
    expectOneLineError(['--tools', f], /obj\.js: the tools file must evaluate to an array/);
  });
  test('environment that is not a factory', () => {
    const f = file('env.js', '"hello"');
    expectOneLineError(['--env', f], /env\.js: the environment file must evaluate to a function/);
  });
});
