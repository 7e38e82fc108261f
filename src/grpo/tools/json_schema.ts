// A small JSON-schema check for tool arguments: the subset tool definitions use (type, properties,
// required, enum, items, additionalProperties: false). Returns the first problem, naming the path, or null.

export function schemaProblem(schema: unknown, value: unknown, path = 'arguments'): string | null {
  if (!schema || typeof schema !== 'object') return null;
  const s = schema as Record<string, unknown>;
  if (Array.isArray(s.enum) && !s.enum.some((e) => JSON.stringify(e) === JSON.stringify(value))) {
    return `${path} must be one of ${s.enum.map((e) => JSON.stringify(e)).join(', ')}, got ${JSON.stringify(value)}`;
  }
  const types = Array.isArray(s.type) ? (s.type as string[]) : typeof s.type === 'string' ? [s.type] : [];
  if (types.length && !types.some((t) => isType(t, value))) return `${path} must be ${types.join(' or ')}, got ${kind(value)}`;
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    const obj = value as Record<string, unknown>;
    const props = (s.properties && typeof s.properties === 'object' ? s.properties : {}) as Record<string, unknown>;
    for (const r of Array.isArray(s.required) ? (s.required as string[]) : []) {
      if (!(r in obj)) return `${path}.${r} is required`;
    }
    for (const [k, v] of Object.entries(obj)) {
      if (k in props) {
        const p = schemaProblem(props[k], v, `${path}.${k}`);
        if (p) return p;
      } else if (s.additionalProperties === false) return `${path}.${k} is not a parameter of this tool`;
    }
  }
  if (Array.isArray(value) && s.items) {
    for (let i = 0; i < value.length; i++) {
      const p = schemaProblem(s.items, value[i], `${path}[${i}]`);
      if (p) return p;
    }
  }
  return null;
}

function isType(t: string, v: unknown): boolean {
  switch (t) {
    case 'object':
      return v !== null && typeof v === 'object' && !Array.isArray(v);
    case 'array':
      return Array.isArray(v);
    case 'string':
      return typeof v === 'string';
    case 'number':
      return typeof v === 'number' && Number.isFinite(v);
    case 'integer':
      return typeof v === 'number' && Number.isInteger(v);
    case 'boolean':
      return typeof v === 'boolean';
    case 'null':
      return v === null;
    default:
      return true;
  }
}

function kind(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'number' && Number.isInteger(v)) return `the integer ${v}`;
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 30 ? `${v.slice(0, 30)}…` : v)}`;
  return typeof v === 'object' ? 'an object' : `${typeof v} ${String(v)}`;
}
