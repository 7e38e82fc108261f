// Dataset rows -> prompts the model sees: template and chat template applied, tokenized with BOS, and
// truncated to max_prompt_length from the left (TRL keeps a prompt's end), BOS kept. Truncations are counted.

import type { DatasetRow } from '../data';
import { formatPrompt } from '../data';
import type { LoadedModel } from '../model/load';
import type { GrpoConfig } from './config';
import type { PromptExample } from './rollout';

export interface PreparedPrompts {
  examples: PromptExample[];
  /** prompts longer than max_prompt_length, cut from the left (long_prompts "truncate_left") */
  truncated: number;
  /** lines of the rows left out for being longer than max_prompt_length (long_prompts "skip") */
  skippedLines: number[];
}

export function preparePrompts(
  rows: readonly DatasetRow[],
  model: Pick<LoadedModel, 'tokenizer' | 'chatTemplate' | 'specialTokens'>,
  c: GrpoConfig,
  /** tools for the chat template's `tools` (tools_source, loaded in the sandbox) */
  tools?: readonly { name: string; description: string; parameters: unknown }[],
): PreparedPrompts {
  let truncated = 0;
  const skippedLines: number[] = [];
  const examples: PromptExample[] = [];
  for (const row of rows) {
    const text = formatPrompt(row, c, model.chatTemplate ?? null, model.specialTokens ?? {}, tools);
    // A rendered chat template carries its own BOS text, so it is tokenized without special tokens (TRL:
    // add_special_tokens=False; Gemma's and Llama 3's tokenizers would add a second BOS); otherwise ask the
    // tokenizer for exactly one BOS.
    const templated = c.use_chat_template && !!model.chatTemplate;
    let ids = model.tokenizer.encode(text, { addBos: !templated });
    if (ids.length > c.max_prompt_length && c.long_prompts === 'skip') {
      skippedLines.push(row.line);
      continue;
    }
    if (ids.length > c.max_prompt_length) {
      truncated++;
      const bos = model.tokenizer.bosId;
      const keepBos = bos !== null && ids[0] === bos;
      ids = keepBos ? [bos, ...ids.slice(ids.length - c.max_prompt_length + 1)] : ids.slice(ids.length - c.max_prompt_length);
    }
    if (ids.length === 0) ids = model.tokenizer.bosId !== null ? [model.tokenizer.bosId] : ids;
    examples.push({ text, ids, answer: row.answer, raw: row.raw, ...(row.passRate !== undefined ? { passRate: row.passRate } : {}) });
  }
  return { examples, truncated, skippedLines };
}
