// Reads a WGSL module's interface (struct Params and the @group/@binding declarations) and compares it with
// a kernel descriptor (src/gpu/kernel.ts). Used by test/kernel_descriptors.test.ts.
import type { KernelDescriptor } from '../src/gpu/kernel';

export interface WgslBinding {
  group: number;
  binding: number;
  /** 'uniform', 'storage', ... */
  space: string;
  /** for storage: 'read' (the default) or 'read_write' */
  access: string;
  name: string;
  type: string;
}

export interface WgslLayout {
  /** fields of `struct Params`, in order, or null when the module has none */
  params: { name: string; type: string }[] | null;
  bindings: WgslBinding[];
}

export function stripComments(code: string): string {
  return code.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/[^\n]*/g, '');
}

export function parseWgslLayout(code: string): WgslLayout {
  const text = stripComments(code);
  const structs = [...text.matchAll(/\bstruct\s+Params\s*\{([^}]*)\}/g)];
  if (structs.length > 1) throw new Error(`${structs.length} declarations of struct Params`);
  const params = structs.length === 0 ? null : structs[0][1]
    .split(',')
    .map((f) => f.trim())
    .filter((f) => f.length > 0)
    .map((f) => {
      const m = /^(?:@\w+(?:\([^)]*\))?\s+)*(\w+)\s*:\s*(\S+)$/.exec(f);
      if (!m) throw new Error(`cannot read the Params field '${f}'`);
      return { name: m[1], type: m[2] };
    });
  const bindings: WgslBinding[] = [];
  const re = /@group\(\s*(\d+)\s*\)\s*@binding\(\s*(\d+)\s*\)\s*var\s*(?:<([^>]*)>)?\s*(\w+)\s*:\s*([^;]+);/g;
  for (const m of text.matchAll(re)) {
    const [space = '', access = ''] = (m[3] ?? '').split(',').map((s) => s.trim());
    bindings.push({
      group: Number(m[1]),
      binding: Number(m[2]),
      space,
      access: space === 'storage' ? access || 'read' : access,
      name: m[4],
      type: m[5].trim(),
    });
  }
  return { params, bindings: bindings.sort((a, b) => a.binding - b.binding) };
}

/** Every way the shader's declared interface differs from the descriptor's (empty when they agree). */
export function descriptorProblems(k: KernelDescriptor): string[] {
  const problems: string[] = [];
  const where = `${k.name}${k.entryPoint ? `:${k.entryPoint}` : ''}`;
  let layout: WgslLayout;
  try {
    layout = parseWgslLayout(k.spec.code);
  } catch (e) {
    return [`${where}: ${(e as Error).message}`];
  }
  for (const b of layout.bindings) {
    if (b.group !== 0) problems.push(`${where}: ${b.name} is in @group(${b.group}); kernels use group 0 only`);
  }
  const declared = Object.entries(k.params).map(([name, type]) => ({ name, type }));
  const uniform = layout.bindings.find((b) => b.binding === 0);
  if (declared.length > 0) {
    if (!layout.params) problems.push(`${where}: the descriptor has params but the shader has no struct Params`);
    else {
      const shader = layout.params.map((f) => `${f.name}: ${f.type}`).join(', ');
      const desc = declared.map((f) => `${f.name}: ${f.type}`).join(', ');
      if (shader !== desc) problems.push(`${where}: struct Params is {${shader}} but the descriptor says {${desc}}`);
    }
    if (!uniform || uniform.space !== 'uniform' || uniform.type !== 'Params') {
      problems.push(`${where}: binding 0 must be var<uniform> of type Params, got ${uniform ? `var<${uniform.space}> ${uniform.name}: ${uniform.type}` : 'nothing'}`);
    }
  } else if (uniform || layout.params) {
    problems.push(`${where}: the shader declares ${uniform ? 'binding 0' : 'struct Params'} but the descriptor has no params`);
  }
  const storage = layout.bindings.filter((b) => b.binding !== 0);
  const shaderBufs = storage.map((b) => `${b.binding} ${b.name} (${b.space === 'storage' ? b.access : `var<${b.space}>`})`);
  const descBufs = Object.entries(k.buffers).map(([name, access], i) => `${i + 1} ${name} (${access})`);
  if (shaderBufs.join(', ') !== descBufs.join(', ')) {
    problems.push(`${where}: the shader binds [${shaderBufs.join(', ')}] but the descriptor says [${descBufs.join(', ')}]`);
  }
  if (/^\s*\/\/#include/m.test(k.spec.code)) problems.push(`${where}: an //#include line was left unresolved`);
  return problems;
}

/** The header comment's `Bindings:` paragraph (up to the next `Dispatch`, `Entry` or blank comment line):
 * its `{...}` param names and its numbered buffer names, in order; null when the header has none. */
export function headerBindings(source: string): { params: string[] | null; buffers: [number, string][] } | null {
  const header: string[] = [];
  for (const line of source.split('\n')) {
    if (!line.startsWith('//')) break;
    header.push(line.replace(/^\/\/\s?/, ''));
  }
  const text = header.join('\n');
  const start = text.search(/Bindings\b[^:]*:/);
  if (start < 0) return null;
  const rest = text.slice(start);
  const end = rest.search(/\n(?=\S*\s*(Dispatch|Entry|Shapes)\b)|\n\s*\n|(?<=\.)\s+Dispatch\b/);
  const para = (end < 0 ? rest : rest.slice(0, end)).replace(/^Bindings\b[^:]*:/, '');
  const brace = /\b0 params\s*\{([^}]*)\}/.exec(para);
  const params = brace ? brace[1].split(',').map((s) => s.trim().split(/[\s=]/)[0]) : null;
  const buffers: [number, string][] = [];
  for (const m of para.replace(/\{[^}]*\}/g, '').matchAll(/(?:^|[;,]|\n)\s*(\d+)\s+(\w+)/g)) {
    if (m[1] !== '0') buffers.push([Number(m[1]), m[2]]);
  }
  return { params, buffers };
}

/** Differences between the shader's header comment (its Bindings line) and the descriptor. */
export function headerProblems(k: KernelDescriptor): string[] {
  const h = headerBindings(k.source);
  if (!h) return [];
  const problems: string[] = [];
  const params = Object.keys(k.params);
  if (h.params && h.params.join(', ') !== params.join(', ')) {
    problems.push(`${k.name}: the header comment lists params {${h.params.join(', ')}} but the descriptor has {${params.join(', ')}}`);
  }
  const want = Object.keys(k.buffers).map((name, i) => `${i + 1} ${name}`).join(', ');
  const got = h.buffers.map(([i, name]) => `${i} ${name}`).join(', ');
  if (got !== want) problems.push(`${k.name}: the header comment lists bindings [${got}] but the descriptor has [${want}]`);
  return problems;
}
