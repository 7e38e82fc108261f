// docs/CONFIG.md, generated from the schema (test/grpo/config_docs.test.ts checks that the committed page
// is up to date; `npm run docs:config` rewrites it).

import type { FieldEntry, Range, TrlDecision, ValueKind } from './fields';
import { CONFIG_KEYS, DEFAULT_CONFIG, FIELDS } from './schema';

function typeText(t: ValueKind): string {
  switch (t.kind) {
    case 'int':
      return 'whole number';
    case 'number':
      return 'number';
    case 'int_or_null':
      return 'whole number or null';
    case 'number_or_null':
      return 'number or null';
    case 'boolean':
      return 'true / false';
    case 'enum':
      return t.choices.map((c) => `\`${c}\``).join(' | ');
    case 'string_or_null':
      return 'text or null';
    case 'modules':
      return `list of ${t.choices.map((c) => `\`${c}\``).join(', ')}`;
    case 'reward_funcs':
      return 'list of {name, weight, params}';
  }
}

function rangeText(r: Range | undefined): string {
  if (!r) return '';
  if ('whole' in r) return `≥ ${r.whole}`;
  if ('lo' in r) return `${r.loOpen ? '(' : '['}${r.lo}, ${r.hi}${r.hiOpen ? ')' : ']'}`;
  if ('atLeast' in r) return `≥ ${r.atLeast}`;
  if ('above' in r) return `> ${r.above}`;
  return 'finite';
}

function trlText(d: TrlDecision): string {
  if ('trl' in d) return d.differs ? `\`${d.trl}\`; differs from TRL: ${d.differs}` : `\`${d.trl}\`, as TRL`;
  if ('peft' in d) return `LoraConfig \`${d.peft}\``;
  if ('computed' in d) return `${d.computed.map((k) => `\`${k}\``).join(', ')}: ${d.note}`;
  return `not in TRL: ${d.notInTrl}`;
}

const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** The page's Markdown. */
export function configDocsMarkdown(): string {
  const lines = [
    '# Configuration',
    '',
    '<!-- Generated from src/grpo/config/schema.ts by `npm run docs:config`; do not edit by hand. -->',
    '',
    'Every setting of a run, as the settings panel, `--config FILE.json` and the exported TRL script know it.',
    'Names are TRL\'s (GRPOConfig, PEFT LoraConfig) where TRL has the setting. A config file holds any subset',
    'of these keys; the rest keep their defaults. "TRL" says how the exported script passes the setting to',
    'TRL v1.9 (GRPOConfig keyword, a mapping, or "not in TRL" with what the script does instead), and for a',
    'GRPOConfig keyword whether it means the same as in TRL ("as TRL") or how and why it differs.',
    '',
  ];
  const groups: string[] = [];
  for (const k of CONFIG_KEYS) if (!groups.includes(FIELDS[k].group)) groups.push(FIELDS[k].group);
  for (const g of groups) {
    lines.push(`## ${g}`, '');
    for (const k of CONFIG_KEYS) {
      const f: FieldEntry<unknown> = FIELDS[k];
      if (f.group !== g) continue;
      const range = rangeText(f.range);
      lines.push(
        `### \`${k}\``,
        '',
        f.doc,
        '',
        `| type | default | range | TRL |`,
        `| --- | --- | --- | --- |`,
        `| ${cell(typeText(f.type))} | \`${cell(JSON.stringify(DEFAULT_CONFIG[k]))}\` | ${cell(range || '—')} | ${cell(trlText(f.trl))} |`,
        '',
      );
      if (f.source) lines.push(`Source: ${f.source}.`, '');
    }
  }
  return lines.join('\n');
}
