// The TRL export cannot be made to run somebody else's Python. Each case builds train_grpo.py from one
// hostile input (model name, `_name_or_path`, dataset file name, model source, column names, custom reward
// JavaScript, tool descriptions, parameter descriptions and sources) and then checks three things:
// - `python3 -m py_compile` passes;
// - running the script under stub torch/trl/datasets/peft/transformers packages (whose __init__ writes a
//   "reached" file and exits the process) leaves no marker file: the payload never ran before the imports;
// - the script's syntax tree equals that of the same script built from a harmless value in the same place
//   (every constant blanked): the payload added no statement anywhere, also after the imports.
// Tool and parameter names that are not Python identifiers are refused, naming the tool and the parameter.
import { beforeAll, describe, expect, test } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { trlScript, type TrlScriptInput } from '../../src/export/trl_script';
import { pyComment, pyCommentLines, pyDocstring, pyIdentifier, pyString } from '../../src/export/py_escape';
import { defaultConfig } from '../../src/grpo/config';
import type { ToolExport } from '../../src/export/tools_py';

const python = spawnSync('python3', ['--version']).status === 0;
let dir = '';
let stubs = '';
const marker = () => join(dir, 'PWNED');

/** Python statements that write the marker file, in several disguises. */
const code = () => `open(${JSON.stringify(marker())}, "w").write("x")`;
/** Ways out of a docstring, a string literal and a comment, each followed by the payload. */
const breakouts = () => [
  `"""\n${code()}\n"""`,
  `\\"""\n${code()}\n"""`,
  `x""""\n${code()}\n#`,
  `x\\`, // a backslash at the end escapes the closing quote
  `x\r${code()}\r#`,
  `x\r\n${code()}\n#`,
  `x\u2028${code()}\u2029#`,
  `x\f\v\x1c\x1d\x1e\x85${code()}`,
  `x"\n${code()}\n"`,
  `x\x00y`,
  `x\ud800y`,
];

function baseInput(): TrlScriptInput {
  return {
    config: defaultConfig(),
    modelName: 'HuggingFaceTB/SmolLM2-135M',
    modelSource: 'downloaded from HuggingFaceTB/SmolLM2-135M',
    dataset: { name: 'data.jsonl', format: 'jsonl', promptColumn: 'question', answerColumn: 'solution' },
    stepsTrained: 3,
  };
}

function tool(over: Partial<ToolExport> & { paramDescription?: string; paramName?: string } = {}): ToolExport {
  const p = over.paramName ?? 'a';
  return {
    name: over.name ?? 'calc',
    description: over.description ?? 'Adds one',
    parameters: { type: 'object', properties: { [p]: { type: 'integer', description: over.paramDescription ?? 'the number' } }, required: [p] },
    source: over.source ?? `({ ${p} }) => ${p} + 1`,
  };
}

/** Where a hostile string can go, each as a function from the string to the export's input. */
const SLOTS: Record<string, (s: string) => TrlScriptInput> = {
  'model name': (s) => ({ ...baseInput(), modelName: s }),
  '_name_or_path (the model name of a folder without its own name)': (s) => ({ ...baseInput(), modelName: s.split('/').pop()! }),
  'model source': (s) => ({ ...baseInput(), modelSource: s }),
  'dataset file name': (s) => ({ ...baseInput(), dataset: { ...baseInput().dataset!, name: s } }),
  'prompt column': (s) => ({ ...baseInput(), dataset: { ...baseInput().dataset!, promptColumn: s } }),
  'answer column': (s) => ({ ...baseInput(), dataset: { ...baseInput().dataset!, answerColumn: s } }),
  'system prompt': (s) => ({ ...baseInput(), config: { ...defaultConfig(), system_prompt: s } }),
  'custom reward JavaScript': (s) => ({
    ...baseInput(),
    config: { ...defaultConfig(), reward_funcs: [{ name: 'custom', weight: 1, params: { source: `(p, c, a) => 1 // ${s}` } }] },
  }),
  'tool description': (s) => ({ ...baseInput(), config: { ...defaultConfig(), tools_source: '[]' }, tools: [tool({ description: s })] }),
  'tool parameter description': (s) => ({ ...baseInput(), config: { ...defaultConfig(), tools_source: '[]' }, tools: [tool({ paramDescription: s })] }),
  'tool JavaScript (a stub)': (s) => ({ ...baseInput(), config: { ...defaultConfig(), tools_source: '[]' }, tools: [tool({ source: `({ a }) => { /* ${s} */ return Math.sqrt(a); }` })] }),
};

/** One python3 per slot: for each script, py_compile, then a forked child runs it with the stubs first on
 * sys.path (the stub exits the child on import); and the script's ast.dump with every constant blanked. */
function check(scripts: string[]): { compiled: string; status: number; reached: boolean; shape: string }[] {
  const program = [
    'import ast, json, os, py_compile, runpy, sys',
    'req = json.load(sys.stdin)',
    'out = []',
    'for i, src in enumerate(req["scripts"]):',
    '    path = os.path.join(req["dir"], f"train_grpo_{i}.py")',
    '    with open(path, "w", encoding="utf-8") as f: f.write(src)',
    '    try:',
    '        py_compile.compile(path, doraise=True); compiled = "ok"',
    '    except Exception as e:',
    '        compiled = str(e)',
    '    reached = os.path.join(req["dir"], "REACHED")',
    '    if os.path.exists(reached): os.remove(reached)',
    '    pid = os.fork()',
    '    if pid == 0:',
    '        sys.path.insert(0, req["stubs"])',
    '        try:',
    '            runpy.run_path(path, run_name="__main__")',
    '        finally:',
    '            os._exit(3)',
    '    status = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])',
    '    tree = ast.parse(src)',
    '    for n in ast.walk(tree):',
    '        if isinstance(n, ast.Constant): n.value = None',
    '    out.append({"compiled": compiled, "status": status, "reached": os.path.exists(reached), "shape": ast.dump(tree)})',
    'print(json.dumps(out))',
  ].join('\n');
  const r = spawnSync('python3', ['-c', program], {
    encoding: 'utf8',
    input: JSON.stringify({ scripts, dir, stubs }),
    env: { PATH: process.env.PATH ?? '' },
    timeout: 60_000,
    maxBuffer: 64 << 20,
  });
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout);
}

describe.skipIf(!python)('the TRL export under hostile names and sources', () => {
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'py-injection-'));
    stubs = join(dir, 'stubs');
    for (const m of ['torch', 'trl', 'datasets', 'peft', 'transformers']) {
      mkdirSync(join(stubs, m), { recursive: true });
      writeFileSync(join(stubs, m, '__init__.py'), `import os\nopen(${JSON.stringify(join(dir, 'REACHED'))}, "w").write(${JSON.stringify(m)})\nos._exit(0)\n`);
    }
  });

  for (const [slot, build] of Object.entries(SLOTS)) {
    test(`${slot}: compiles, runs no payload, adds no statement`, () => {
      const [base, ...hostile] = check([trlScript(build('harmless')), ...breakouts().map((b) => trlScript(build(b)))]);
      expect(base.compiled).toBe('ok');
      hostile.forEach((r, i) => {
        expect(r.compiled, `${slot} #${i}`).toBe('ok');
        expect(r.status, `${slot} #${i}: the script did not stop at the stub packages`).toBe(0);
        expect(r.reached, `${slot} #${i}: the stub packages were imported`).toBe(true);
        expect(existsSync(marker()), `${slot} #${i}: the payload ran`).toBe(false);
        expect(r.shape, `${slot} #${i}: the syntax tree changed`).toBe(base.shape);
      });
    });
  }

  test('tool names and parameter names must be Python identifiers and not keywords', () => {
    const input = (t: ToolExport): TrlScriptInput => ({ ...baseInput(), config: { ...defaultConfig(), tools_source: '[]' }, tools: [t] });
    expect(() => trlScript(input(tool({ name: 'calc(a=__import__("os").system("id")):\n    pass\ndef x' })))).toThrow(/the tool "calc\(a=.*is not a Python identifier/);
    expect(() => trlScript(input(tool({ paramName: 'a=__import__("os").system("id")' })))).toThrow(/the tool "calc": parameter "a=__import__.*is not a Python identifier/);
    expect(() => trlScript(input(tool({ paramName: 'lambda' })))).toThrow(/the tool "calc": parameter "lambda" is a Python keyword/);
    expect(() => trlScript(input(tool({ name: 'import' })))).toThrow(/the tool "import" is a Python keyword/);
    expect(() => trlScript(input(tool({ paramName: '1st' })))).toThrow(/parameter "1st"/);
    expect(() => trlScript(input(tool({ name: 'calc\u2028' })))).toThrow(/the tool/);
    const two = { ...input(tool()), tools: [tool(), tool()] };
    expect(() => trlScript(two)).toThrow(/"calc" is used twice/);
  });

  test('a translated tool body stays one expression', () => {
    // `exit` is a valid parameter name; a line break must not turn `exit()` into a module-level statement
    const t: ToolExport = { name: 'calc', description: 'd', parameters: { type: 'object', properties: { exit: { type: 'integer' } }, required: ['exit'] }, source: '({ exit }) => { return 0\n\nexit(); }' };
    const script = trlScript({ ...baseInput(), config: { ...defaultConfig(), tools_source: '[]' }, tools: [t] });
    expect(script).not.toMatch(/^exit\(\)/m);
    expect(script).toContain('    return 0 exit()');
  });
});

describe('py_escape, one function per Python context', () => {
  test('string literals escape quotes, backslashes, controls and line separators and keep printable text', () => {
    expect(pyString('say "hi"\\\n')).toBe('"say \\"hi\\"\\\\\\n"');
    expect(pyString('a\rb\u2028c\x00d\x85e')).toBe('"a\\rb\\u2028c\\x00d\\x85e"');
    expect(pyString('é 😀')).toBe('"é 😀"');
    expect(pyString('\ud800')).toBe('"\\ud800"');
  });

  test('comments have no line break of any kind', () => {
    expect(pyComment('a\rb\nc\u2028d\u2029e\ff\vg\x1ch\x85i\x00j')).toBe('a b c d e f g h ij');
    expect(pyCommentLines('a\r\nb\rc\u2028d', '#  ')).toBe('#  a\n#  b\n#  c\n#  d');
    expect(() => pyCommentLines('x', 'y')).toThrow(/does not start a comment/);
  });

  test('docstrings cannot be closed or end in an escape', () => {
    expect(pyDocstring('a"""b\\')).toBe('a\\"\\"\\"b\\\\');
    expect(pyDocstring('a\rb')).toBe('a\nb');
    expect(pyDocstring('pip install "trl>=1.9" ""x"')).toBe('pip install "trl>=1.9" \\"\\"x\\"');
  });

  test('identifiers are checked, not rewritten', () => {
    expect(pyIdentifier('add_2', 'the tool')).toBe('add_2');
    expect(pyIdentifier('match', 'the tool')).toBe('match'); // a soft keyword is a valid name
    expect(() => pyIdentifier('None', 'the tool')).toThrow(/the tool "None" is a Python keyword/);
    expect(() => pyIdentifier('', 'the tool')).toThrow(/not a Python identifier/);
    expect(() => pyIdentifier(7, 'the tool')).toThrow(/the tool 7/);
  });
});
