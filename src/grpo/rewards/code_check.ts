// The one check every piece of user JavaScript passes before any sandbox is asked to load it: custom
// rewards, tools files and environment files, whether they come from the page, a CLI file, a config, a
// sweep spec or a resumed checkpoint (CustomReward, checkCustomRewardSource and ToolRunner.create call it).
//
// The source is parsed with a real JavaScript parser (acorn), exactly as the sandbox compiles it (the body
// `"use strict";\nreturn (SOURCE\n);` of a function), so whitespace, comments, line breaks and escapes
// cannot hide anything: `import(...)` (dynamic import), `import.meta` and module syntax (import / export
// declarations) are refused with their line and column. A source that acorn cannot parse is refused too
// (with the parser's message and the line it points at), so no text the engine would accept can slip past
// a parser that gave up. Parsing runs nothing: this is safe on the page, whose policy forbids compiling.
//
// This check is the first wall, not the only one: the sandboxes (a permission-limited child process in
// Node, a network-less sandboxed frame in the page) hold even for code that got past it.

import { parse, type Node } from 'acorn';

/** What the source is, as messages name it: "custom reward", "tools file", "environment file". */
export type UserCodeKind = 'custom reward' | 'tools file' | 'environment file';

const PREFIX = '"use strict";\nreturn (';
/** lines before the source's first line in the compiled text, and columns before it on that line */
const LINE_OFFSET = 1;
const COLUMN_OFFSET = 'return ('.length;

interface Position {
  line: number;
  column: number;
}

/** A compiled-text position as a position in the user's source (1-based line, 1-based column). */
function inSource(p: Position): Position {
  const line = p.line - LINE_OFFSET;
  return { line, column: line === 1 ? p.column - COLUMN_OFFSET + 1 : p.column + 1 };
}

function where(source: string, p: Position): string {
  const text = (source.split(/\r\n|[\n\r\u2028\u2029]/)[p.line - 1] ?? '').trim().slice(0, 80);
  return `${p.line}:${p.column} (${text})`;
}

function importProblem(what: UserCodeKind, construct: string, at: string): string {
  return `the ${what} may not import modules: ${construct} at line ${at} is refused in the sandbox; put everything the code needs inside it`;
}

/** Finds the first import(...) or import.meta in the tree (document order). */
function findImport(node: unknown): { node: Node; construct: string } | null {
  if (!node || typeof node !== 'object') return null;
  if (Array.isArray(node)) {
    for (const n of node) {
      const hit = findImport(n);
      if (hit) return hit;
    }
    return null;
  }
  const n = node as Node & Record<string, unknown>;
  if (typeof n.type === 'string') {
    if (n.type === 'ImportExpression') return { node: n, construct: 'a dynamic import(...)' };
    if (n.type === 'MetaProperty' && (n.meta as { name?: string } | undefined)?.name === 'import') return { node: n, construct: 'import.meta' };
    if (n.type === 'ImportDeclaration' || n.type.startsWith('Export')) return { node: n, construct: 'module syntax (import / export declarations)' };
  }
  for (const key of Object.keys(n)) {
    if (key === 'loc' || key === 'start' || key === 'end' || key === 'type') continue;
    const hit = findImport(n[key]);
    if (hit) return hit;
  }
  return null;
}

/** The first import / export declaration of the source read as a module, when it parses as one. */
function moduleDeclaration(source: string): Node | null {
  try {
    const tree = parse(source, { ecmaVersion: 'latest', sourceType: 'module', locations: true }) as Node & { body: Node[] };
    return tree.body.find((n) => n.type === 'ImportDeclaration' || n.type.startsWith('Export')) ?? null;
  } catch {
    return null;
  }
}

/**
 * What is wrong with a piece of user JavaScript before it may be sent to a sandbox, or null. Messages:
 * "the tools file may not import modules: a dynamic import(...) at line 3:7: ... is refused ...", or "the custom reward source does not
 * compile: SyntaxError: Unexpected token (line 2: ...)".
 */
export function checkUserCode(source: unknown, what: UserCodeKind): string | null {
  if (typeof source !== 'string') return `the ${what} source must be JavaScript text, got ${source === null ? 'null' : typeof source}`;
  const compiled = `${PREFIX}${source}\n);`;
  let tree: Node;
  try {
    tree = parse(compiled, { ecmaVersion: 'latest', sourceType: 'script', allowReturnOutsideFunction: true, locations: true });
  } catch (e) {
    const err = e as SyntaxError & { loc?: Position; pos?: number };
    const message = String(err.message ?? e).replace(/\s*\(\d+:\d+\)$/, '');
    const p = err.loc ? inSource(err.loc) : null;
    const inside = p !== null && typeof err.pos === 'number' && err.pos >= PREFIX.length && err.pos < PREFIX.length + source.length;
    // module syntax and import.meta are syntax errors in a script: say what they are, not just "unexpected"
    const keyword = typeof err.pos === 'number' ? /^(import|export)\b/.exec(compiled.slice(err.pos))?.[1] : undefined;
    if (keyword || /'import' and 'export' may appear only|import\.meta|Escape sequence in keyword import/i.test(message)) {
      const construct = /import\.meta/.test(message) ? 'import.meta' : /Escape sequence/.test(message) ? 'an escaped "import" keyword' : `module syntax (an ${keyword ?? 'import / export'} declaration)`;
      return importProblem(what, construct, p && inside ? where(source, p) : '?');
    }
    // `import fs from "fs"` fails earlier, at "fs": read as a module, the source shows what it meant
    const declared = moduleDeclaration(source);
    if (declared) return importProblem(what, `module syntax (an ${declared.type.startsWith('Export') ? 'export' : 'import'} declaration)`, where(source, { line: declared.loc!.start.line, column: declared.loc!.start.column + 1 }));
    const at = p && inside ? ` (line ${p.line}: ${where(source, p).replace(/^\d+:\d+ \((.*)\)$/, '$1')})` : ' (no one line holds it: an unclosed or extra bracket, string or comment?)';
    return `the ${what} source does not compile: SyntaxError: ${message}${at}`;
  }
  const hit = findImport(tree);
  if (hit) {
    const loc = hit.node.loc!.start;
    return importProblem(what, hit.construct, where(source, inSource(loc)));
  }
  return null;
}
