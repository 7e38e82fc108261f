// The run's JavaScript tools as Python functions for TRL's GRPOTrainer(tools=...): the same names,
// descriptions and argument schemas (type hints + a Google-style docstring, which transformers turns into
// the JSON schema). A body is translated only when it is trivially translatable: an arrow function over
// destructured arguments returning arithmetic (+ - * / and parentheses) of those arguments and numbers.
// Anything else becomes a stub that raises, with the JavaScript in a comment above it.

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
  return body;
}

export function toolsPython(tools: readonly ToolExport[]): { code: string; stubs: string[] } {
  const stubs: string[] = [];
  const defs = tools.map((t) => {
    const schema = (t.parameters ?? {}) as { properties?: Record<string, { type?: string; description?: string }>; required?: string[] };
    const required = new Set(schema.required ?? []);
    // Python wants the arguments without a default first
    const props = Object.entries(schema.properties ?? {}).sort(([a], [b]) => Number(required.has(b)) - Number(required.has(a)));
    const sig = props.map(([k, p]) => `${k}: ${PY_TYPES[p.type ?? ''] ?? 'object'}${required.has(k) ? '' : ' = None'}`);
    const doc = [
      `    """${(t.description || t.name).replace(/"""/g, "'''")}`,
      ...(props.length ? ['', '    Args:', ...props.map(([k, p]) => `        ${k}: ${(p.description ?? k).replace(/\n/g, ' ')}`)] : []),
      '    """',
    ];
    const expr = translateBody(t.source, props.map(([k]) => k));
    const js = t.source.split('\n').map((l) => `#     ${l}`).join('\n');
    if (expr !== null) return [`# translated from: ${t.source.split('\n')[0]}`, `def ${t.name}(${sig.join(', ')}):`, ...doc, `    return ${expr}`].join('\n');
    stubs.push(t.name);
    return [
      `# The JavaScript tool "${t.name}" of the playground, to translate to Python:`,
      '#',
      js,
      '#',
      `def ${t.name}(${sig.join(', ')}):`,
      ...doc,
      `    raise NotImplementedError(${JSON.stringify(`translate the JavaScript tool ${t.name} above to Python`)})`,
    ].join('\n');
  });
  return { code: defs.join('\n\n\n'), stubs };
}
