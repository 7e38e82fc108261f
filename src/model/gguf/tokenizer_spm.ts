// A GGUF file's SentencePiece BPE tokenizer (tokenizer.ggml.model "llama": Gemma, Llama 2, Mistral v0.1) as the
// tokenizer.json transformers' converters write for it (GemmaConverter / LlamaConverter), for the project's
// Hugging Face tokenizer path. The file has pieces, scores and token types but no merges: the merges are
// derived as transformers' generate_merges (convert_slow_tokenizer.py) derives them — every split of a piece into
// two pieces of the vocabulary is a merge, a piece's merges ordered by (left id, right id), then all merges by
// (the merged piece's score, the left part's length, the right part's length), highest first, in a stable sort —
// so the BPE merges what SentencePiece merges. Byte pieces
// <0xNN> are the byte fallback; spaces are "▁", with a "▁" put before the text when tokenizer.ggml.add_space_prefix
// says so (llama.cpp's default: true; Gemma's files say false) and taken off again when decoding.

import type { MetaReader } from './config';

/** token_type values (llama.cpp's llama_token_type) */
export const TOKEN_TYPE = { normal: 1, unknown: 2, control: 3, userDefined: 4, unused: 5, byte: 6 };

const SPACE = '\u2581';

/** The merges of a SentencePiece BPE vocabulary, as [left, right] pairs in priority order. */
export function spmMerges(tokens: string[], scores: ArrayLike<number> | null): [string, string][] {
  const vocab = new Map<string, number>();
  tokens.forEach((t, id) => {
    if (!vocab.has(t)) vocab.set(t, id);
  });
  const all: { l: string; r: string; score: number; ll: number; rl: number }[] = [];
  const codePoints = (x: string) => {
    let n = 0;
    for (const _ of x) n++;
    return n;
  };
  for (let id = 0; id < tokens.length; id++) {
    const piece = tokens[id];
    if (vocab.get(piece) !== id) continue; // a duplicate piece: its first id stands for it
    const local: { l: string; r: string; li: number; ri: number }[] = [];
    for (let i = 1; i < piece.length; i++) {
      const li = vocab.get(piece.slice(0, i));
      if (li === undefined) continue;
      const ri = vocab.get(piece.slice(i));
      if (ri === undefined) continue;
      local.push({ l: piece.slice(0, i), r: piece.slice(i), li, ri });
    }
    local.sort((a, b) => a.li - b.li || a.ri - b.ri);
    const score = scores ? scores[id] : 0;
    for (const m of local) all.push({ l: m.l, r: m.r, score, ll: codePoints(m.l), rl: codePoints(m.r) });
  }
  all.sort((a, b) => b.score - a.score || b.ll - a.ll || b.rl - a.rl); // Array.prototype.sort is stable
  return all.map((m) => [m.l, m.r]);
}

/** tokenizer.json for a "llama" (SentencePiece) GGUF tokenizer. `tokens` and `types` are already checked. */
export function spmTokenizerJson(m: MetaReader, tokens: string[], types: number[] | null): Record<string, unknown> {
  const scoresRaw = m.get('tokenizer.ggml.scores');
  let scores: number[] | null = null;
  if (scoresRaw !== undefined) {
    if (!Array.isArray(scoresRaw) || scoresRaw.length !== tokens.length || scoresRaw.some((s) => typeof s !== 'number' || !Number.isFinite(s))) {
      m.fail('tokenizer.ggml.scores', `must be a list of ${tokens.length} finite numbers (one per token)`);
    }
    scores = scoresRaw as number[];
  }
  const typeOf = (id: number) => (types ? types[id] : TOKEN_TYPE.normal);
  const ids = new Map<string, number>();
  const added: unknown[] = [];
  let unk: string | null = null;
  let bytes = 0;
  tokens.forEach((t, id) => {
    if (!ids.has(t)) ids.set(t, id);
    const type = typeOf(id);
    if (type === TOKEN_TYPE.unknown && unk === null) unk = t;
    if (type === TOKEN_TYPE.byte) bytes++;
    if (type === TOKEN_TYPE.control || type === TOKEN_TYPE.userDefined || type === TOKEN_TYPE.unknown) {
      added.push({ id, content: t, single_word: false, lstrip: false, rstrip: false, normalized: false, special: type !== TOKEN_TYPE.userDefined });
    }
  });
  const prefix = m.bool('tokenizer.ggml.add_space_prefix') ?? true;
  const replace = { type: 'Replace', pattern: { String: ' ' }, content: SPACE };
  const decoders: unknown[] = [{ type: 'Replace', pattern: { String: SPACE }, content: ' ' }, { type: 'ByteFallback' }, { type: 'Fuse' }];
  if (prefix) decoders.push({ type: 'Strip', content: ' ', start: 1, stop: 0 });
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: added,
    // GemmaConverter: spaces become "▁"; LlamaConverter (legacy) also puts one before the text
    normalizer: prefix ? { type: 'Sequence', normalizers: [{ type: 'Prepend', prepend: SPACE }, replace] } : replace,
    pre_tokenizer: prefix ? null : { type: 'Split', pattern: { String: ' ' }, behavior: 'MergedWithPrevious', invert: false },
    post_processor: null,
    decoder: { type: 'Sequence', decoders },
    model: {
      type: 'BPE', dropout: null, unk_token: unk, continuing_subword_prefix: null, end_of_word_suffix: null, fuse_unk: true,
      // own properties even for "constructor" or "__proto__": fromEntries, not assignment
      byte_fallback: bytes > 0, ignore_merges: false, vocab: Object.fromEntries(ids), merges: spmMerges(tokens, scores),
    },
  };
}
