// The tools panel's check (src/ui/tools/check.ts): the example files load in the sandbox as a run loads them,
// with each tool's name, description and arguments; bad files come back as the sandbox's message naming the
// problem (syntax error with its line, not an array, a tool without run, a bad schema).
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { checkToolSources, toolArguments } from '../../src/ui/tools/check';

const CALC = readFileSync('public/datasets/calculator.tools.js', 'utf8');
const GUESS = readFileSync('public/datasets/guess_number.env.js', 'utf8');

describe('tools panel check', () => {
  test('the example files load: the calculator tool with its argument, the environment', async () => {
    const c = await checkToolSources(CALC, GUESS, 1000);
    expect(c.state).toBe('ok');
    if (c.state !== 'ok') return;
    expect(c.env).toBe(true);
    expect(c.tools.map((t) => t.name)).toEqual(['calc']);
    expect(c.tools[0].description).toMatch(/Adds two whole numbers/);
    expect(toolArguments(c.tools[0].parameters)).toEqual([{ name: 'input', type: 'string', required: true, description: 'the sum to work out, a+b' }]);
    expect(await checkToolSources(null, '  ', 1000)).toEqual({ state: 'none' });
  });

  test('bad files: the sandbox says what is wrong', async () => {
    const msg = async (tools: string | null, env: string | null = null) => {
      const c = await checkToolSources(tools, env, 1000);
      expect(c.state).toBe('error');
      return c.state === 'error' ? c.message : '';
    };
    expect(await msg('[\n  { name: "a", run: () => 1 },\n  { name: "b" run: () => 2 },\n]')).toMatch(/tools file source does not compile: SyntaxError: .*\(line 3: /);
    expect(await msg('({ name: "a", run: () => 1 })')).toMatch(/must evaluate to an array/);
    expect(await msg('[{ name: "a" }]')).toMatch(/tool "a": run must be a function/);
    expect(await msg('[{ description: "x", run: () => 1 }]')).toMatch(/tool 0: name must be an identifier/);
    expect(await msg('[{ name: "a", parameters: { type: "object", properties: [] }, run: () => 1 }]')).toMatch(/"properties" must be an object/);
    expect(await msg(null, '42')).toMatch(/environment file must evaluate to a function/);
  });

  test('arguments: enums, unions, no schema', () => {
    expect(toolArguments({ type: 'object', properties: { op: { enum: ['+', '-'] }, n: { type: ['integer', 'null'] } }, required: ['op'] })).toEqual([
      { name: 'op', type: '"+" | "-"', required: true, description: '' },
      { name: 'n', type: 'integer | null', required: false, description: '' },
    ]);
    expect(toolArguments(undefined)).toEqual([]);
  });
});
