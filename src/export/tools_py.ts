// The run's JavaScript tools as Python functions for TRL's GRPOTrainer(tools=...): the same names,
// descriptions and argument schemas (type hints + a Google-style docstring, which transformers turns into
// the JSON schema). A body is translated only when it is trivially translatable: an arrow function over
// destructured arguments returning arithmetic (+ - * / and parentheses) of those arguments and numbers.
// Anything else becomes a stub that raises, with the JavaScript in a comment above it.

import { pyCommentLines, pyComment, pyDocstring, pyDocstringLine, pyIdentifier, pyString } from './py_escape';

export interface ToolExport {
  name: string;
  description: string;
  parameters: unknown;
  /** the tool's run function as JavaScript text */
  source: string;
}

const PY_TYPES: Record<string, string> = { integer: 'int', number: 'float', string: 'str', boolean: 'bool', array: 'list', object: 'dict' };

/** The Python expression for a trivially translatable body, or null. */
export function translateBody(source: string, params: string[]): string | null {
  const m = /^\s*(?:async\s+)?\(\s*\{\s*([A-Za-z_$][\w$]*(?:\s*,\s*[A-Za-z_$][\w$]*)*)?\s*,?\s*\}\s*\)\s*=>\s*([\s\S]+)$/.exec(source);
  if (!m) return null;
  const args = (m[1] ?? '').split(',').map((x) => x.trim()).filter(Boolean);
  let body = m[2].trim();
  const block = /^\{\s*return\s+([\s\S]+?);?\s*\}$/.exec(body);
  if (block) body = block[1].trim();
  else if (body.startsWith('{')) return null;
  body = body.replace(/;$/, '');
  if (!/^[\w\s+\-*/().]+$/.test(body)) return null;
  for (const id of body.match(/[A-Za-z_]\w*/g) ?? []) if (!args.includes(id) || !params.includes(id)) return null;
  // one line: a line break in the JavaScript would end the Python statement and run the rest at module level
  return body.replace(/\s+/g, ' ');
}

export function toolsPython(tools: readonly ToolExport[]): { code: string; stubs: string[] } {
  const stubs: string[] = [];
  const seen = new Set<string>();
  const defs = tools.map((t) => {
    const name = pyIdentifier(t.name, 'the tool');
    if (seen.has(name)) throw new Error(`the tool name "${name}" is used twice: the Python export needs one function per name`);
    seen.add(name);
    const schema = (t.parameters ?? {}) as { properties?: Record<string, { type?: string; description?: string }>; required?: string[] };
    const properties = schema.properties !== null && typeof schema.properties === 'object' ? schema.properties : {};
    const required = new Set(Array.isArray(schema.required) ? schema.required : []);
    // Python wants the arguments without a default first
    const props = Object.entries(properties).sort(([a], [b]) => Number(required.has(b)) - Number(required.has(a)));
    for (const [k] of props) pyIdentifier(k, `the tool "${name}": parameter`);
    const typeOf = (p: { type?: unknown } | null) => {
      const ty = p !== null && typeof p === 'object' ? p.type : undefined;
      return typeof ty === 'string' && Object.hasOwn(PY_TYPES, ty) ? PY_TYPES[ty] : 'object';
    };
    const sig = props.map(([k, p]) => `${k}: ${typeOf(p)}${required.has(k) ? '' : ' = None'}`);
    const text = (x: unknown, fallback: string) => (typeof x === 'string' && x !== '' ? x : fallback);
    const doc = [
      `    """${pyDocstring(text(t.description, name))}`,
      ...(props.length ? ['', '    Args:', ...props.map(([k, p]) => `        ${k}: ${pyDocstringLine(text(p?.description, k))}`)] : []),
      '    """',
    ];
    const source = typeof t.source === 'string' ? t.source : String(t.source);
    const expr = translateBody(source, props.map(([k]) => k));
    const js = pyCommentLines(source, '#     ');
    if (expr !== null) return [`# translated from: ${pyComment(source.split(/\r\n|[\n\r]/)[0])}`, `def ${name}(${sig.join(', ')}):`, ...doc, `    return ${expr}`].join('\n');
    stubs.push(name);
    return [
      `# The JavaScript tool "${name}" of the playground, to translate to Python:`,
      '#',
      js,
      '#',
      `def ${name}(${sig.join(', ')}):`,
      ...doc,
      `    raise NotImplementedError(${pyString(`translate the JavaScript tool ${name} above to Python`)})`,
    ].join('\n');
  });
  return { code: defs.join('\n\n\n'), stubs };
}
