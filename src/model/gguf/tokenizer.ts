// The tokenizer stored in a GGUF file (tokenizer.ggml.*, as llama.cpp's converter writes it) rebuilt as the
// tokenizer.json that the project's Hugging Face tokenizer path reads. Byte-level BPE ("gpt2": Qwen, Llama 3,
// SmolLM) is rebuilt from tokens, merges and token types, with the pre-tokenizer that tokenizer.ggml.pre names;
// SentencePiece BPE ("llama": Gemma, Llama 2) from tokens, scores and token types (tokenizer_spm.ts). BOS/EOS
// as add_bos_token / add_eos_token say, and the chat template, come from the file.

import { createHfTokenizer, type HfTokenizer } from '../tokenizer_hf';
import type { MetaReader } from './config';
import { spmTokenizerJson, TOKEN_TYPE } from './tokenizer_spm';

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

/** The tokenizer.json of a GGUF file's tokenizer (byte-level BPE or SentencePiece BPE), and the tokenizer_config it implies. */
export function ggufTokenizerJson(m: MetaReader): { tokenizerJson: unknown; tokenizerConfig: Record<string, unknown> } {
  const model = m.string('tokenizer.ggml.model');
  if (model === undefined) {
    m.fail('tokenizer.ggml.model', 'is missing: the file has no tokenizer; put the model\'s tokenizer.json beside it (or pass it)');
  }
  if (model !== 'gpt2' && model !== 'llama') {
    m.fail('tokenizer.ggml.model', `is "${model}": only byte-level BPE ("gpt2") and SentencePiece BPE ("llama") tokenizers are rebuilt from a GGUF file; put the model's tokenizer.json beside the file (or pass it)`);
  }
  const tokens = stringList(m, 'tokenizer.ggml.tokens', true)!;
  const typesRaw = m.get('tokenizer.ggml.token_type');
  let types: number[] | null = null;
  if (typesRaw !== undefined) {
    if (!Array.isArray(typesRaw) || typesRaw.length !== tokens.length || typesRaw.some((t) => typeof t !== 'number')) {
      m.fail('tokenizer.ggml.token_type', `must be a list of ${tokens.length} numbers (one per token)`);
    }
    types = typesRaw as number[];
  }
  const tokenAt = (key: string): string | null => {
    const id = m.int(key);
    if (id === undefined) return null;
    if (id >= tokens.length) m.fail(key, `is ${id}, outside the ${tokens.length} tokens`);
    return tokens[id];
  };
  const bos = tokenAt('tokenizer.ggml.bos_token_id');
  const eos = tokenAt('tokenizer.ggml.eos_token_id');
  const addBos = (m.bool('tokenizer.ggml.add_bos_token') ?? (model === 'llama')) && bos !== null; // llama.cpp: SPM adds BOS unless told
  const addEos = (m.bool('tokenizer.ggml.add_eos_token') ?? false) && eos !== null;
  const chatTemplate = m.string('tokenizer.chat_template');
  const tokenizerConfig = {
    bos_token: addBos ? bos : null, eos_token: eos, add_bos_token: addBos, add_eos_token: addEos, ...(chatTemplate ? { chat_template: chatTemplate } : {}),
  };
  const json = model === 'llama' ? spmTokenizerJson(m, tokens, types) : bpeTokenizerJson(m, tokens, types);
  return { tokenizerJson: { ...json, post_processor: postProcessor(addBos ? bos : null, addEos ? eos : null, json.model as { vocab: Record<string, number> }) }, tokenizerConfig };
}

/** BOS before and EOS after the text, as the file's add_bos_token / add_eos_token say (TemplateProcessing). */
function postProcessor(bos: string | null, eos: string | null, model: { vocab: Record<string, number> }): unknown {
  if (bos === null && eos === null) return null;
  const seq = (id: string, type: number) => ({ Sequence: { id, type_id: type } });
  const tok = (t: string | null, type: number) => (t === null ? [] : [{ SpecialToken: { id: t, type_id: type } }]);
  const special: Record<string, unknown> = {};
  for (const t of [bos, eos]) if (t !== null) special[t] = { id: t, ids: [model.vocab[t]], tokens: [t] };
  return {
    type: 'TemplateProcessing',
    single: [...tok(bos, 0), seq('A', 0), ...tok(eos, 0)],
    pair: [...tok(bos, 0), seq('A', 0), ...tok(eos, 0), seq('B', 1), ...tok(eos, 1)],
    special_tokens: special,
  };
}

/** tokenizer.json (without its post-processor) of a byte-level BPE ("gpt2") GGUF tokenizer. */
function bpeTokenizerJson(m: MetaReader, tokens: string[], types: number[] | null): Record<string, unknown> {
  const pre = m.string('tokenizer.ggml.pre') ?? 'default';
  const p = PRE[pre];
  if (!p) {
    m.fail('tokenizer.ggml.pre', `is "${pre}", a pre-tokenizer not known here (known: ${GGUF_TOKENIZER_PRE.join(', ')}); put the model's tokenizer.json beside the file (or pass it)`);
  }
  const merges = stringList(m, 'tokenizer.ggml.merges', true)!;
  for (const [i, merge] of merges.entries()) {
    if (merge.split(' ').length !== 2) m.fail('tokenizer.ggml.merges', `entry ${i} ("${merge}") is not two tokens separated by one space`);
  }
  const ids = new Map<string, number>();
  const added: unknown[] = [];
  tokens.forEach((t, id) => {
    if (!ids.has(t)) ids.set(t, id);
    const type = types ? types[id] : TOKEN_TYPE.normal;
    if (type === TOKEN_TYPE.control || type === TOKEN_TYPE.userDefined) {
      added.push({ id, content: t, single_word: false, lstrip: false, rstrip: false, normalized: false, special: type === TOKEN_TYPE.control });
    }
  });
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: added,
    normalizer: p.normalizer,
    pre_tokenizer: p.preTokenizer,
    decoder: byteLevel(true),
    model: {
      type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: '', end_of_word_suffix: '', fuse_unk: false,
      // own properties even for "constructor" or "__proto__" (tokens too): fromEntries, not assignment
      byte_fallback: false, ignore_merges: pre === 'llama-bpe', vocab: Object.fromEntries(ids), merges,
    },
  };
}

/** The tokenizer of a GGUF file: from `tokenizerJson` (a tokenizer.json beside it) when given, else rebuilt from
 * tokenizer.ggml.*. BOS (when the file adds one), EOS and the chat template come from the file's metadata. */
export function ggufTokenizer(m: MetaReader, beside?: { json: unknown; source: string }): { tokenizer: HfTokenizer; chatTemplate: string | null } {
  const chatTemplate = m.string('tokenizer.chat_template') ?? null;
  const eosId = m.int('tokenizer.ggml.eos_token_id');
  const bosId = m.int('tokenizer.ggml.bos_token_id');
  const addBos = m.bool('tokenizer.ggml.add_bos_token') ?? m.string('tokenizer.ggml.model') === 'llama';
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
