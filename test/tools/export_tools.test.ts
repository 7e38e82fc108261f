// The TRL export of JavaScript tools: same names, descriptions and argument schemas as Python functions;
// plain-arithmetic bodies translated, anything else a stub that raises, said at the top; the script compiles.
import { describe, expect, test } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { translateBody } from '../../src/export/tools_py';
import { trlScript } from '../../src/export/trl_script';
import { defaultConfig } from '../../src/grpo/config';

const TOOLS = [
  { name: 'add', description: 'Adds two integers', parameters: { type: 'object', properties: { a: { type: 'integer', description: 'the first' }, b: { type: 'integer' } }, required: ['a', 'b'] }, source: '({ a, b }) => a + b' },
  { name: 'scale', description: 'Scales', parameters: { type: 'object', properties: { x: { type: 'number' }, k: { type: 'number' } }, required: ['x'] }, source: '({ x, k }) => { return (x * k) / 2; }' },
  { name: 'lookup', description: 'Looks a word up', parameters: { type: 'object', properties: { word: { type: 'string' } }, required: ['word'] }, source: "({ word }) => ({ cat: 'animal' })[word] ?? null" },
];

describe('tools in the TRL export', () => {
  test('only plain arithmetic over the arguments is translated', () => {
    expect(translateBody('({ a, b }) => a + b', ['a', 'b'])).toBe('a + b');
    expect(translateBody('({ x, k }) => { return (x * k) / 2; }', ['x', 'k'])).toBe('(x * k) / 2');
    expect(translateBody('({ a }) => a % 3', ['a'])).toBeNull();
    expect(translateBody('({ a }) => Math.sqrt(a)', ['a'])).toBeNull();
    expect(translateBody('({ a }) => b + 1', ['a'])).toBeNull();
    expect(translateBody('function (args) { return 1; }', [])).toBeNull();
  });

  test('functions with the same names, docstrings and hints; stubs raise and are named at the top; it compiles', () => {
    const script = trlScript({ config: { ...defaultConfig(), tools_source: '[]' }, modelName: 'm', dataset: null, stepsTrained: 0, tools: TOOLS });
    expect(script).toContain('def add(a: int, b: int):');
    expect(script).toContain('    return a + b');
    expect(script).toContain('def scale(x: float, k: float = None):');
    expect(script).toContain('def lookup(word: str):');
    expect(script).toMatch(/def lookup\(word: str\):\n {4}"""Looks a word up\n\n {4}Args:\n {8}word: word\n {4}"""\n {4}raise NotImplementedError/);
    expect(script).toContain("#     ({ word }) => ({ cat: 'animal' })[word] ?? null");
    expect(script).toContain('        a: the first');
    expect(script).toContain('TOOLS = [add, scale, lookup]');
    expect(script).toContain('    tools=TOOLS,');
    const top = script.slice(0, script.indexOf('"""', 30));
    expect(top).toContain('NOT TRANSLATED: lookup is a stub that raises NotImplementedError');
    const dir = mkdtempSync(join(tmpdir(), 'tools-export-'));
    writeFileSync(join(dir, 'train_grpo.py'), script);
    const r = spawnSync('python3', ['-m', 'py_compile', join(dir, 'train_grpo.py')], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
  });

  test('no tools: the script is unchanged by this feature', () => {
    const script = trlScript({ config: defaultConfig(), modelName: 'm', dataset: null, stepsTrained: 0 });
    expect(script).not.toContain('TOOLS');
    expect(script).not.toContain('# ---- tools');
    expect(script).not.toContain('NOT TRANSLATED');
  });
});
