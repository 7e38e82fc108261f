// The tokenizer stored in a GGUF file (tokenizer.ggml.*, as llama.cpp's converter writes it) rebuilt as the
// tokenizer.json that the project's Hugging Face tokenizer path reads. Byte-level BPE ("gpt2": Qwen, Llama 3,
// SmolLM) is rebuilt from tokens, merges and token types, with the pre-tokenizer that tokenizer.ggml.pre names;
// SentencePiece vocabularies ("llama": Gemma, Llama 2) need the model's tokenizer.json beside the file.

import { createHfTokenizer, type HfTokenizer } from '../tokenizer_hf';
import type { MetaReader } from './config';

/** token_type values (llama.cpp's llama_token_type) */
const TOKEN_TYPE = { normal: 1, unknown: 2, control: 3, userDefined: 4, unused: 5, byte: 6 };

const QWEN2_REGEX = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
const LLAMA3_REGEX = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

const byteLevel = (useRegex: boolean) => ({ type: 'ByteLevel', add_prefix_space: false, trim_offsets: false, use_regex: useRegex });
const split = (regex: string) => ({ type: 'Split', pattern: { Regex: regex }, behavior: 'Isolated', invert: false });

/** tokenizer.ggml.pre -> normalizer and pre-tokenizer of the Hugging Face tokenizer it was converted from */
const PRE: Record<string, { normalizer: unknown; preTokenizer: unknown }> = {
  qwen2: { normalizer: { type: 'NFC' }, preTokenizer: { type: 'Sequence', pretokenizers: [split(QWEN2_REGEX), byteLevel(false)] } },
  'llama-bpe': { normalizer: null, preTokenizer: { type: 'Sequence', pretokenizers: [split(LLAMA3_REGEX), byteLevel(false)] } },
  smollm: {
    normalizer: null,
    preTokenizer: { type: 'Sequence', pretokenizers: [{ type: 'Digits', individual_digits: true }, byteLevel(true)] },
  },
  'gpt-2': { normalizer: null, preTokenizer: byteLevel(true) },
  default: { normalizer: null, preTokenizer: byteLevel(true) },
};

export const GGUF_TOKENIZER_PRE = Object.keys(PRE);

function stringList(m: MetaReader, key: string, required: boolean): string[] | null {
  const v = m.get(key);
  if (v === undefined) {
    if (required) m.fail(key, 'is missing');
    return null;
  }
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) m.fail(key, 'must be a list of strings');
  return v as string[];
}

/** The tokenizer.json of a GGUF file's byte-level BPE tokenizer, and the tokenizer_config it implies. */
export function ggufTokenizerJson(m: MetaReader): { tokenizerJson: unknown; tokenizerConfig: Record<string, unknown> } {
  const model = m.string('tokenizer.ggml.model');
  if (model === undefined) {
    m.fail('tokenizer.ggml.model', 'is missing: the file has no tokenizer; put the model\'s tokenizer.json beside it (or pass it)');
  }
  if (model !== 'gpt2') {
    m.fail('tokenizer.ggml.model', `is "${model}": only byte-level BPE ("gpt2") tokenizers are rebuilt from a GGUF file; put the model's tokenizer.json beside the file (or pass it)`);
  }
  const pre = m.string('tokenizer.ggml.pre') ?? 'default';
  const p = PRE[pre];
  if (!p) {
    m.fail('tokenizer.ggml.pre', `is "${pre}", a pre-tokenizer not known here (known: ${GGUF_TOKENIZER_PRE.join(', ')}); put the model's tokenizer.json beside the file (or pass it)`);
  }
  const tokens = stringList(m, 'tokenizer.ggml.tokens', true)!;
  const merges = stringList(m, 'tokenizer.ggml.merges', true)!;
  const typesRaw = m.get('tokenizer.ggml.token_type');
  let types: number[] | null = null;
  if (typesRaw !== undefined) {
    if (!Array.isArray(typesRaw) || typesRaw.length !== tokens.length || typesRaw.some((t) => typeof t !== 'number')) {
      m.fail('tokenizer.ggml.token_type', `must be a list of ${tokens.length} numbers (one per token)`);
    }
    types = typesRaw as number[];
  }
  for (const [i, merge] of merges.entries()) {
    if (merge.split(' ').length !== 2) m.fail('tokenizer.ggml.merges', `entry ${i} ("${merge}") is not two tokens separated by one space`);
  }
  const vocab: Record<string, number> = {};
  const added: unknown[] = [];
  tokens.forEach((t, id) => {
    if (!(t in vocab)) vocab[t] = id;
    const type = types ? types[id] : TOKEN_TYPE.normal;
    if (type === TOKEN_TYPE.control || type === TOKEN_TYPE.userDefined) {
      added.push({ id, content: t, single_word: false, lstrip: false, rstrip: false, normalized: false, special: type === TOKEN_TYPE.control });
    }
  });
  const tokenAt = (key: string): string | null => {
    const id = m.int(key);
    if (id === undefined) return null;
    if (id >= tokens.length) m.fail(key, `is ${id}, outside the ${tokens.length} tokens`);
    return tokens[id];
  };
  const bos = tokenAt('tokenizer.ggml.bos_token_id');
  const eos = tokenAt('tokenizer.ggml.eos_token_id');
  const addBos = (m.bool('tokenizer.ggml.add_bos_token') ?? false) && bos !== null;
  const post = addBos
    ? {
        type: 'TemplateProcessing',
        single: [{ SpecialToken: { id: bos, type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
        pair: [{ SpecialToken: { id: bos, type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { Sequence: { id: 'B', type_id: 1 } }],
        special_tokens: { [bos!]: { id: bos, ids: [vocab[bos!]], tokens: [bos] } },
      }
    : null;
  const tokenizerJson = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: added,
    normalizer: p.normalizer,
    pre_tokenizer: p.preTokenizer,
    post_processor: post,
    decoder: byteLevel(true),
    model: {
      type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: '', end_of_word_suffix: '', fuse_unk: false,
      byte_fallback: false, ignore_merges: pre === 'llama-bpe', vocab, merges,
    },
  };
  const chatTemplate = m.string('tokenizer.chat_template');
  return {
    tokenizerJson,
    tokenizerConfig: { bos_token: addBos ? bos : null, eos_token: eos, add_bos_token: addBos, ...(chatTemplate ? { chat_template: chatTemplate } : {}) },
  };
}

/** The tokenizer of a GGUF file: from `tokenizerJson` (a tokenizer.json beside it) when given, else rebuilt from
 * tokenizer.ggml.*. BOS (when the file adds one), EOS and the chat template come from the file's metadata. */
export function ggufTokenizer(m: MetaReader, beside?: { json: unknown; source: string }): { tokenizer: HfTokenizer; chatTemplate: string | null } {
  const chatTemplate = m.string('tokenizer.chat_template') ?? null;
  const eosId = m.int('tokenizer.ggml.eos_token_id');
  const bosId = m.int('tokenizer.ggml.bos_token_id');
  const addBos = m.bool('tokenizer.ggml.add_bos_token') ?? false;
  const config = { eos_token_id: eosId ?? null, bos_token_id: addBos ? (bosId ?? null) : null };
  if (beside) {
    // the file's BOS/EOS ids index its own token list: carry them over by their text
    const tokens = m.get('tokenizer.ggml.tokens');
    const text = (id: number | undefined) => (Array.isArray(tokens) && id !== undefined && typeof tokens[id] === 'string' ? (tokens[id] as string) : null);
    const tokenizerConfig = { bos_token: addBos ? text(bosId) : null, eos_token: text(eosId) };
    const tokenizer = createHfTokenizer({ tokenizerJson: beside.json, tokenizerConfig, config: {}, chatTemplate }, beside.source);
    return { tokenizer, chatTemplate };
  }
  const { tokenizerJson, tokenizerConfig } = ggufTokenizerJson(m);
  const tokenizer = createHfTokenizer({ tokenizerJson, tokenizerConfig, config, chatTemplate }, `${m.source} (tokenizer.ggml.*)`);
  return { tokenizer, chatTemplate };
}
