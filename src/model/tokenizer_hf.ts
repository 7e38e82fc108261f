// Hugging Face tokenizer.json through the `@huggingface/tokenizers` package (pure JS: BPE, Unigram,
// WordPiece, byte-level and Metaspace pipelines). BOS/EOS come from tokenizer_config.json, config.json
// and generation_config.json.

import { Tokenizer as HfTokenizerImpl } from '@huggingface/tokenizers';
import type { Tokenizer } from './tokenizer';
import { checkTokenizerIds } from './tokenizer_bounds';

export interface HfTokenizerFiles {
  /** parsed tokenizer.json */
  tokenizerJson: unknown;
  /** parsed tokenizer_config.json, when present */
  tokenizerConfig?: unknown;
  /** parsed config.json, when present */
  config?: unknown;
  /** parsed generation_config.json, when present */
  generationConfig?: unknown;
  /** the model's chat template, when it has one: its end-of-turn token also ends a generation */
  chatTemplate?: string | null;
}

/** End-of-turn markers of chat templates (Qwen/ChatML, Gemma, Llama 3): a chat model ends its answer with
 * one, and generation_config.json does not always list it. */
export const END_OF_TURN_TOKENS = ['<|im_end|>', '<end_of_turn>', '<|eot_id|>'];

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A token id or list of ids from a config field (anything else: none). */
function ids(v: unknown): number[] {
  const list = Array.isArray(v) ? v : [v];
  return list.filter((x): x is number => typeof x === 'number' && Number.isInteger(x) && x >= 0);
}

/** tokenizer_config's "bos_token": "<s>" or { "content": "<s>", ... } */
function tokenString(v: unknown): string | null {
  if (typeof v === 'string') return v;
  if (isObject(v) && typeof v.content === 'string') return v.content;
  return null;
}

export class HfTokenizer implements Tokenizer {
  readonly vocabSize: number;
  readonly bosId: number | null;
  readonly eosIds: number[];

  constructor(
    private readonly impl: HfTokenizerImpl,
    bosId: number | null,
    eosIds: number[],
  ) {
    let maxId = -1;
    for (const id of impl.get_vocab(true).values()) maxId = Math.max(maxId, id);
    this.vocabSize = maxId + 1;
    this.bosId = bosId;
    this.eosIds = eosIds;
  }

  encode(text: string, opts?: { addBos?: boolean }): number[] {
    if (opts?.addBos === undefined) return this.impl.encode(text).ids;
    const out = this.impl.encode(text, { add_special_tokens: false }).ids;
    if (opts.addBos && this.bosId !== null && out[0] !== this.bosId) out.unshift(this.bosId);
    return out;
  }

  /** Special tokens (BOS, EOS, chat markers) are skipped, as TRL decodes completions. */
  decode(ids: number[]): string {
    // the library refuses an empty list; an empty completion (EOS at once) decodes to ''
    if (ids.length === 0) return '';
    return this.impl.decode(ids, { skip_special_tokens: true });
  }

  tokenText(id: number): string {
    if (!Number.isInteger(id) || id < 0 || id >= this.vocabSize) {
      throw new Error(`token id ${id} is outside the vocabulary [0, ${this.vocabSize})`);
    }
    const text = this.impl.decode([id], { skip_special_tokens: false, clean_up_tokenization_spaces: false });
    // a partial UTF-8 sequence (one byte of a multi-byte character) reads better as its vocab entry
    if (text === '' || text.includes('\uFFFD')) return this.impl.id_to_token(id) ?? text;
    return text;
  }
}

/** Builds the tokenizer; errors name `source` (the folder or file the JSON came from). */
export function createHfTokenizer(files: HfTokenizerFiles, source = 'tokenizer.json'): HfTokenizer {
  const { tokenizerJson } = files;
  if (!isObject(tokenizerJson) || !isObject(tokenizerJson.model)) {
    throw new Error(`${source}: not a tokenizer.json (expected an object with a "model" entry)`);
  }
  checkTokenizerIds(tokenizerJson, source);
  const tokConfig = isObject(files.tokenizerConfig) ? files.tokenizerConfig : {};
  const config = isObject(files.config) ? files.config : {};
  const gen = isObject(files.generationConfig) ? files.generationConfig : {};
  let impl: HfTokenizerImpl;
  try {
    impl = new HfTokenizerImpl(tokenizerJson, tokConfig);
  } catch (e) {
    throw new Error(`${source}: cannot build the tokenizer: ${(e as Error).message}`);
  }
  const byName = (v: unknown): number[] => {
    const s = tokenString(v);
    const id = s === null ? undefined : impl.token_to_id(s);
    return id === undefined ? [] : [id];
  };
  // A tokenizer_config that says bos_token: null (Qwen) has no BOS, whatever config.json's bos_token_id.
  const noBos = 'bos_token' in tokConfig && tokConfig.bos_token === null;
  const bos = noBos ? [] : [...byName(tokConfig.bos_token), ...ids(config.bos_token_id), ...ids(gen.bos_token_id)];
  const endOfTurn = END_OF_TURN_TOKENS.filter((t) => files.chatTemplate?.includes(t)).flatMap(byName);
  const eos = [...new Set([...ids(gen.eos_token_id), ...ids(config.eos_token_id), ...byName(tokConfig.eos_token), ...endOfTurn])];
  return new HfTokenizer(impl, bos.length ? bos[0] : null, eos);
}
