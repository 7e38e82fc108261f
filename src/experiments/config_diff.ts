// The settings that differ between runs' configs: what a comparison table shows (the rest is shared).

/** Keys whose values are not all equal (compared as JSON), in the first config's key order. */
export function differingKeys(configs: readonly Record<string, unknown>[]): string[] {
  if (configs.length < 2) return [];
  const keys: string[] = [];
  const seen = new Set<string>();
  for (const c of configs) for (const k of Object.keys(c)) if (!seen.has(k)) (seen.add(k), keys.push(k));
  return keys.filter((k) => new Set(configs.map((c) => JSON.stringify(c[k] ?? null))).size > 1);
}

/** A value as a table cell shows it. */
export function showValue(v: unknown): string {
  if (v === undefined) return '—';
  if (typeof v === 'string') return v;
  if (Array.isArray(v) && v.every((x) => typeof x === 'object' && x && 'name' in x)) {
    return (v as { name: string; weight?: number }[]).map((r) => `${r.name}${r.weight !== undefined && r.weight !== 1 ? ` × ${r.weight}` : ''}`).join(', ');
  }
  return JSON.stringify(v);
}
