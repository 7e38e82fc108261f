// Preference rows -> token ids: the prompt as GRPO prepares it (template, chat template, BOS,
// max_prompt_length from the left), each completion tokenized without BOS and ended with the model's stop
// token (as SFT does, so the model learns where to stop), cut to max_completion_length tokens from the
// right (TRL's truncation_mode "keep_start").

import type { DatasetKind, DatasetRow } from '../../data';
import { isPreferenceAlgorithm, type Algorithm } from '../config/enums';
import type { LoadedModel } from '../../model/load';
import type { GrpoConfig } from '../config';
import { preparePrompts } from '../prompts';
import type { PromptExample } from '../rollout';

/** How a dataset (and a separate test file) is read for an algorithm: preference pairs (DPO, SimPO, ORPO),
 * KTO's unpaired labelled completions, or prompt/answer rows (GRPO and the rest). */
export function datasetKindFor(algorithm: Algorithm): DatasetKind {
  return algorithm === 'kto' ? 'unpaired' : isPreferenceAlgorithm(algorithm) ? 'preference' : 'prompt_answer';
}

/** A pair (DPO, SimPO, ORPO) or an unpaired example (KTO: rejected absent, desirable given). */
export interface PreferenceExample {
  prompt: PromptExample;
  /** the chosen completion's ids (KTO: the completion's) */
  chosen: number[];
  rejected?: number[];
  desirable?: boolean;
  /** the dataset line */
  line: number;
}

export interface PreparedPreference {
  examples: PreferenceExample[];
  truncatedPrompts: number;
  truncatedCompletions: number;
  skippedLines: number[];
}

export function preparePreference(rows: readonly DatasetRow[], model: Pick<LoadedModel, 'tokenizer' | 'chatTemplate' | 'specialTokens'>, c: GrpoConfig): PreparedPreference {
  const eos = model.tokenizer.eosIds[0];
  let truncatedCompletions = 0;
  let truncatedPrompts = 0;
  const skippedLines: number[] = [];
  const examples: PreferenceExample[] = [];
  const completion = (text: string) => {
    const ids = [...model.tokenizer.encode(text, { addBos: false }), ...(eos !== undefined ? [eos] : [])];
    if (ids.length <= c.max_completion_length) return ids;
    truncatedCompletions++;
    return ids.slice(0, c.max_completion_length);
  };
  for (const row of rows) {
    if (row.rejected === undefined && row.label === undefined) throw new Error(`line ${row.line}: not a preference row (no rejected completion or label); load the dataset as a preference dataset`);
    const p = preparePrompts([row], model, c);
    truncatedPrompts += p.truncated;
    if (p.examples.length === 0) {
      skippedLines.push(...p.skippedLines);
      continue;
    }
    examples.push({
      prompt: p.examples[0],
      chosen: completion(row.answer),
      ...(row.rejected !== undefined ? { rejected: completion(row.rejected) } : {}),
      ...(row.label !== undefined ? { desirable: row.label } : {}),
      line: row.line,
    });
  }
  return { examples, truncatedPrompts, truncatedCompletions, skippedLines };
}
