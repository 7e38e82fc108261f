// The parser check every piece of user JavaScript passes (src/grpo/rewards/code_check.ts): import(...),
// import.meta and module syntax are refused whatever the whitespace, comments, line breaks or escapes,
// with their line and column; text that only mentions them (strings, comments, property names) is allowed;
// the same check guards custom rewards (CustomReward, checkCustomRewardSource) and tools / environment
// files (ToolRunner.create) before any sandbox is started.
import { describe, expect, it } from 'vitest';
import { checkUserCode } from '../../src/grpo/rewards/code_check';
import { CustomReward, checkCustomRewardSource } from '../../src/grpo/rewards';
import { ToolRunner } from '../../src/grpo/tools/runner';

const refused: [string, string, RegExp][] = [
  ['a plain dynamic import', 'async () => (await import("node:fs")).readFileSync("/etc/passwd", "utf8")', /dynamic import\(\.\.\.\) at line 1:20/],
  ['a comment between import and (', 'async () => (await import/**/("node:fs")).x', /dynamic import\(\.\.\.\) at line 1:20/],
  ['a line comment and a line break', 'async () => (await import // hi\n  ("node:child_process")).x', /dynamic import\(\.\.\.\) at line 1:20/],
  ['tabs and line breaks', 'async () => {\n\tconst m = await import\n\t\t(\n"node:fs");\n\treturn 1;\n}', /dynamic import\(\.\.\.\) at line 2:18/],
  ['a U+2028 line separator', 'async () => (await import\u2028("node:fs")).x', /dynamic import/],
  ['an import inside a template literal', '() => `${import("data:text/javascript,1")}`', /dynamic import\(\.\.\.\) at line 1:10/],
  ['an import inside a class static block', 'class A { static { import("x"); } }', /dynamic import/],
  ['an import in a default parameter', '(p = import("x")) => 1', /dynamic import/],
  ['an import at the top level, after closing the wrapper', '0); import("node:fs"); (0', /dynamic import\(\.\.\.\) at line 1:5/],
  ['import.meta', '() => import.meta.url', /import\.meta at line 1:7/],
  ['import.meta with a comment', '() => import/* */.meta', /import\.meta/],
  ['an escaped import keyword', '() => im\\u0070ort("node:fs")', /escaped "import" keyword/],
  ['an import declaration', 'import fs from "node:fs";\n() => 1', /module syntax \(an import declaration\) at line 1:1/],
  ['an export declaration', 'export default (p, c) => 1', /module syntax \(an export declaration\) at line 1:1/],
  ['an import declaration on a later line', '(p) => 1\nimport { x } from "y"', /module syntax \(an import declaration\)/],
];

describe('checkUserCode (acorn)', () => {
  for (const [name, source, message] of refused) {
    it(`refuses ${name}`, () => {
      const problem = checkUserCode(source, 'custom reward');
      expect(problem).toMatch(/^the custom reward may not import modules: /);
      expect(problem).toMatch(message);
    });
  }

  it('allows text that only mentions import', () => {
    for (const source of [
      '() => "import(\\"node:fs\\")".length',
      '(p, c) => c.includes("import(") ? 1 : 0',
      '() => { /* import("x") */ return 1; } // import.meta',
      '(p, c, a, row) => row.import ? 1 : 0',
      '() => ({ import: 1, export: 2 }).import',
      '() => `import(${1})`.length',
      '() => /import\\s*\\(/.test("x") ? 1 : 0',
    ]) {
      expect(checkUserCode(source, 'custom reward'), source).toBeNull();
    }
  });

  it('refuses what it cannot parse, with the line it points at', () => {
    expect(checkUserCode('[\n  { name: "a", run: () => 1 },\n  { name: "b" run: () => 2 },\n]', 'tools file')).toMatch(/^the tools file source does not compile: SyntaxError: .*\(line 3: \{ name: "b" run: \(\) => 2 \},\)/);
    expect(checkUserCode('(p) => { return 1;', 'custom reward')).toMatch(/does not compile: SyntaxError: .*no one line holds it/);
    expect(checkUserCode(42, 'environment file')).toMatch(/must be JavaScript text/);
  });

  it('guards custom rewards and tools / environment files before any sandbox starts', async () => {
    const sneaky = 'async () => (await import/**/("node:fs")).readFileSync("/etc/passwd", "utf8").length';
    expect(checkCustomRewardSource(sneaky)).toMatch(/may not import modules: a dynamic import/);
    expect(() => new CustomReward(sneaky)).toThrow(/may not import modules: a dynamic import/);
    let started = 0;
    const factory = async () => {
      started++;
      throw new Error('no sandbox should start');
    };
    await expect(ToolRunner.create('[{ name: "ls", run: async () => (await import\n("node:fs")).readdirSync("/") }]', null, { timeoutMs: 500, factory })).rejects.toThrow(/the tools file may not import modules: a dynamic import\(\.\.\.\) at line 1:40/);
    await expect(ToolRunner.create(null, '() => ({ reset: () => import.meta.url, step: () => 1 })', { timeoutMs: 500, factory })).rejects.toThrow(/the environment file may not import modules: import\.meta/);
    expect(started).toBe(0);
  });
});
