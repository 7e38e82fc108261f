// How each config field is edited, derived from the config schema (src/grpo/config/schema.ts): the value
// kind picks the input, the range gives number inputs their minimum. Problems arrive keyed by field.

import { CONFIG_DOCS, CONFIG_FIELDS, CONFIG_KEYS, type ConfigProblem, type ConfigRange, type GrpoConfig, type ValueKind } from '../../grpo/config';

export type FieldInput =
  | { kind: 'int'; min?: number }
  | { kind: 'number'; min?: number }
  | { kind: 'optional_number'; suggest: number; min?: number }
  | { kind: 'boolean' }
  | { kind: 'enum'; choices: readonly string[] }
  | { kind: 'text' }
  | { kind: 'modules'; choices: readonly string[] }
  | { kind: 'rewards' };

function minOf(range: ConfigRange | undefined): number | undefined {
  if (!range) return undefined;
  if ('whole' in range) return range.whole;
  if ('lo' in range) return range.lo;
  if ('atLeast' in range) return range.atLeast;
  if ('above' in range) return range.above;
  return undefined;
}

/** The settings panel's input for a field of this kind and range. */
export function inputFor(type: ValueKind, range: ConfigRange | undefined, suggest?: number): FieldInput {
  const min = minOf(range);
  switch (type.kind) {
    case 'int':
      return { kind: 'int', min };
    case 'number':
      return { kind: 'number', min };
    case 'int_or_null':
    case 'number_or_null':
      return { kind: 'optional_number', suggest: suggest ?? min ?? 1, min };
    case 'boolean':
      return { kind: 'boolean' };
    case 'enum':
      return { kind: 'enum', choices: type.choices };
    case 'string_or_null':
      return { kind: 'text' };
    case 'modules':
      return { kind: 'modules', choices: type.choices };
    case 'reward_funcs':
      return { kind: 'rewards' };
  }
}

export const FIELD_INPUTS: Record<keyof GrpoConfig, FieldInput> = Object.fromEntries(
  CONFIG_KEYS.map((k) => {
    const f: { type: ValueKind; range?: ConfigRange; suggest?: number } = CONFIG_FIELDS[k];
    return [k, inputFor(f.type, f.range, f.suggest)];
  }),
) as Record<keyof GrpoConfig, FieldInput>;

/** The config's groups in the order their fields are declared, each with its fields. */
export function fieldGroups(): { group: string; keys: (keyof GrpoConfig)[] }[] {
  const groups: { group: string; keys: (keyof GrpoConfig)[] }[] = [];
  for (const key of CONFIG_KEYS) {
    const g = CONFIG_DOCS[key].group;
    let entry = groups.find((x) => x.group === g);
    if (!entry) groups.push((entry = { group: g, keys: [] }));
    entry.keys.push(key);
  }
  return groups;
}

/** The tools-and-environments fields: edited in the tools panel (../tools/ToolsPanel.tsx), not among the settings' groups. */
export const TOOL_SOURCE_FIELDS: readonly (keyof GrpoConfig)[] = ['tools_source', 'env_source'];
export const TOOL_FORMAT_FIELDS: readonly (keyof GrpoConfig)[] = [
  'tool_call_format',
  'tool_call_open',
  'tool_call_close',
  'tool_result_template',
  'max_tool_calling_iterations',
  'tool_timeout_ms',
  'env_observation_template',
  'turn_end_marker',
  'max_turns',
  'env_reward_weight',
];

/** The fields every run touches, shown above the full list. */
export const ESSENTIAL_FIELDS: readonly (keyof GrpoConfig)[] = ['max_steps', 'learning_rate', 'num_generations', 'max_completion_length', 'prompts_per_step'];

/** checkConfig's (or configWarnings') problems grouped by the field they are keyed to. */
export function problemsByField(problems: readonly ConfigProblem[]): Partial<Record<keyof GrpoConfig, string[]>> {
  const byField: Partial<Record<keyof GrpoConfig, string[]>> = {};
  for (const p of problems) (byField[p.field] ??= []).push(p.message);
  return byField;
}

/** A number as the person typed it: accepts 5e-4, 0.0005, 1_000 is refused. NaN when it is not a number. */
export function parseNumber(text: string): number {
  const t = text.trim();
  if (t === '' || !/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(t)) return NaN;
  return Number(t);
}

/** How a number is shown in an input: as written in the docs (5e-4 stays readable). */
export function formatNumberInput(v: number): string {
  if (!Number.isFinite(v)) return '';
  if (v !== 0 && Math.abs(v) < 1e-3) return v.toExponential().replace(/\.?0+e/, 'e').replace('e-', 'e-');
  return String(v);
}
