// What the page asks of the loaded model besides training: a prompt completed by the base model and by the
// current adapter side by side (the try-it panel), and the token lengths of the dataset's rows (the
// histogram that suggests max_prompt_length / max_completion_length).

import type { DatasetRow, PromptSettings } from '../data';
import { defaultConfig } from '../grpo/config';
import { preparePrompts } from '../grpo/prompts';
import { policyGenerate, policyLogprobs } from '../model/policy_model';
import type { LoadedModel } from '../model/load';
import type { LoraSet } from '../model/lora';
import type { LoadedDataset } from './dataset_slot';
import type { ModelOnDevice } from './model_slot';
import type { GenerateRequest, GenerateResult, GenerationView, TokenLengths } from './protocol';

/** The adapter of the current run and the step it was trained to. */
export interface TunedAdapter {
  lora: LoraSet;
  step: number;
}

/** Token lengths of every kept row's prompt (as the model will see it) and answer (a pair's chosen completion,
 * KTO's completion), and a pair's rejected completion. CPU only. */
export function tokenLengths(loaded: LoadedModel, data: LoadedDataset, settings: PromptSettings): TokenLengths {
  const rows = data.parsed.rows;
  const prompts = promptIds(loaded, rows, settings, Number.MAX_SAFE_INTEGER);
  const prompt = Uint32Array.from(prompts, (p) => p.ids.length);
  const count = (text: string) => loaded.tokenizer.encode(text, { addBos: false }).length;
  const answer = Uint32Array.from(rows, (r) => count(r.answer));
  // preference pairs: the rejected completions too (every kept pair has one)
  if (data.parsed.mapping.rejected === undefined) return { prompt, answer };
  return { prompt, answer, rejected: Uint32Array.from(rows, (r) => count(r.rejected ?? '')) };
}

/** One prompt completed by the base model (LoRA off) and by the tuned adapter (when there is one), with the
 * same seed; and the log-probability of `answer` as the completion under each. */
export async function generateSideBySide(m: ModelOnDevice, tuned: TunedAdapter | null, r: GenerateRequest): Promise<GenerateResult> {
  const { tokenizer, config: mc } = m.loaded;
  const maxNew = Math.max(1, Math.floor(r.maxNewTokens));
  const [prompt] = promptIds(m.loaded, [{ prompt: r.prompt, answer: r.answer ?? '', line: 1, raw: {} }], r.settings, Math.max(1, mc.maxPositionEmbeddings - maxNew));
  const answerIds = r.answer ? tokenizer.encode(r.answer, { addBos: false }) : [];
  const model = m.model;
  const complete = async (lora: LoraSet | null): Promise<GenerationView> => {
    const gen = await policyGenerate(model, [prompt.ids], {
      maxNewTokens: maxNew,
      temperature: r.temperature,
      topK: r.topK,
      topP: r.topP,
      seed: r.seed >>> 0,
      stopIds: tokenizer.eosIds,
      lora,
    });
    let answerLogprob: number | null = null;
    if (answerIds.length > 0 && prompt.ids.length + answerIds.length <= mc.maxPositionEmbeddings) {
      const lp = await policyLogprobs(model, [{ prompt: prompt.ids, completion: answerIds }], lora, 1);
      answerLogprob = lp.logprobs[0].reduce((a, b) => a + b, 0);
    }
    const ids = gen.tokens[0];
    // (an immediate end-of-sequence is an empty completion; some tokenizers refuse to decode [])
    return { text: ids.length ? tokenizer.decode(ids) : '', tokens: ids.length, finish: gen.finish[0], answerLogprob };
  };
  const base = await complete(null);
  const tunedView = tuned ? await complete(tuned.lora) : null;
  return { promptText: prompt.text, promptTokens: prompt.ids.length, answerTokens: answerIds.length, base, tuned: tunedView, step: tuned?.step ?? 0 };
}

function promptIds(loaded: LoadedModel, rows: readonly DatasetRow[], settings: PromptSettings, maxLength: number) {
  const c = { ...defaultConfig(), ...settings, max_prompt_length: maxLength };
  return preparePrompts(rows, loaded, c).examples;
}
