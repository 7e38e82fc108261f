// The order training prompts are drawn in (config `curriculum`): a seeded shuffle every epoch (the default,
// trainer.ts), or one fixed order every epoch: by a difficulty scan's pass rate, easiest first
// ("easy_to_hard"), or by a column's value ("by_column"). Ties keep the file's order (a stable sort).

import type { GrpoConfig } from './config';
import type { PromptExample } from './rollout';

/** The fixed order of `examples` the curriculum asks for, or null for a new shuffle each epoch. Throws, naming
 * the problem, when the data cannot be ordered so (no scan, a missing or mixed-kind column). */
export function curriculumOrder(examples: readonly PromptExample[], c: Pick<GrpoConfig, 'curriculum' | 'curriculum_column'>): number[] | null {
  const idx = examples.map((_, i) => i);
  if (c.curriculum === 'shuffle') return null;
  if (c.curriculum === 'easy_to_hard') {
    const missing = examples.findIndex((e) => e.passRate === undefined);
    if (missing >= 0) {
      throw new Error(`curriculum "easy_to_hard" orders prompts by a difficulty scan's pass rate, and training prompt ${missing + 1} has none: ` +
        'scan the dataset first (the data panel\'s Scan, or grpo-playground scan, then train --scan FILE)');
    }
    return idx.sort((a, b) => examples[b].passRate! - examples[a].passRate! || a - b);
  }
  const col = (c.curriculum_column ?? '').trim();
  const values = examples.map((e, i) => {
    const v = e.raw[col];
    if (v === undefined || v === null || v === '') throw new Error(`curriculum "by_column": training prompt ${i + 1} has no value in column "${col.slice(0, 60)}"`);
    if (typeof v === 'number' && Number.isFinite(v)) return v;
    if (typeof v === 'string') return v;
    if (typeof v === 'boolean') return v ? 1 : 0;
    throw new Error(`curriculum "by_column": training prompt ${i + 1}'s "${col.slice(0, 60)}" is not a number or text`);
  });
  // numbers order numerically, and so do texts that all read as numbers ("1", "2", "10"); otherwise as text
  const asNumbers = values.map((v) => (typeof v === 'number' ? v : v.trim() !== '' && Number.isFinite(Number(v)) ? Number(v) : NaN));
  if (asNumbers.every((x) => !Number.isNaN(x))) return idx.sort((a, b) => asNumbers[a] - asNumbers[b] || a - b);
  if (values.some((v) => typeof v === 'number')) throw new Error(`curriculum "by_column": column "${col.slice(0, 60)}" mixes numbers and text`);
  return idx.sort((a, b) => (values[a] < values[b] ? -1 : values[a] > values[b] ? 1 : a - b));
}
