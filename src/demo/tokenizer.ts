// The built-in model's tokenizer: one token per character, written as a Hugging Face tokenizer.json (a BPE
// model over single characters with no merges, so every character is its own token) that
// @huggingface/tokenizers reads like any other. Ids: <pad> 0, <s> 1, </s> 2, <unk> 3, then CHARSET.

export const PAD_TOKEN = '<pad>';
export const BOS_TOKEN = '<s>';
export const EOS_TOKEN = '</s>';
export const UNK_TOKEN = '<unk>';
export const SPECIAL_TOKENS = [PAD_TOKEN, BOS_TOKEN, EOS_TOKEN, UNK_TOKEN] as const;
export const PAD_ID = 0;
export const BOS_ID = 1;
export const EOS_ID = 2;

/** Every character the demo tasks use: digits, lower-case letters, space and a little punctuation. */
export const CHARSET = '0123456789abcdefghijklmnopqrstuvwxyz +-=:,.?';

/** The vocabulary size (special tokens + characters). */
export const VOCAB_SIZE = SPECIAL_TOKENS.length + CHARSET.length;

export function charVocab(charset: string = CHARSET): Record<string, number> {
  const vocab: Record<string, number> = {};
  SPECIAL_TOKENS.forEach((t, i) => (vocab[t] = i));
  [...charset].forEach((ch, i) => (vocab[ch] = SPECIAL_TOKENS.length + i));
  return vocab;
}

/** The tokenizer.json object (serialise with JSON.stringify) over `charset` (the puzzles model's CHARSET by
 * default; the calculator model has its own, src/demo/calculator.ts). */
export function charTokenizerJson(charset: string = CHARSET): Record<string, unknown> {
  const special = (id: number, content: string) => ({
    id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true,
  });
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: SPECIAL_TOKENS.map((t, i) => special(i, t)),
    normalizer: null,
    pre_tokenizer: null,
    // like Llama: the default encoding starts with <s>
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: BOS_TOKEN, type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
      pair: [
        { SpecialToken: { id: BOS_TOKEN, type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } },
        { SpecialToken: { id: BOS_TOKEN, type_id: 1 } }, { Sequence: { id: 'B', type_id: 1 } },
      ],
      special_tokens: { [BOS_TOKEN]: { id: BOS_TOKEN, ids: [BOS_ID], tokens: [BOS_TOKEN] } },
    },
    // characters are joined as they are (no spaces between tokens)
    decoder: { type: 'Fuse' },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: UNK_TOKEN,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab: charVocab(charset),
      merges: [],
    },
  };
}
