// Token ids in a tokenizer.json are bounded before the tokenizer is built: an added token with id 2^31 (or
// a vocabulary entry with a huge id) would otherwise size tables by the largest id and hang or exhaust
// memory. The bound is the config's vocabulary bound (config_bounds.ts).

import { CONFIG_SIZE_LIMITS } from './config_bounds';

export const MAX_TOKEN_ID = CONFIG_SIZE_LIMITS.vocab_size - 1;

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

function checkId(id: unknown, where: string, source: string): void {
  if (typeof id !== 'number' || !Number.isInteger(id) || id < 0 || id > MAX_TOKEN_ID) {
    throw new Error(`${source}: ${where} has id ${JSON.stringify(id)}; token ids must be whole numbers from 0 to ${MAX_TOKEN_ID}`);
  }
}

/** Throws, naming the file and the token, for an id out of range in added_tokens or the model's vocab. */
export function checkTokenizerIds(tokenizerJson: Json, source: string): void {
  const added = tokenizerJson.added_tokens;
  if (added !== undefined && added !== null) {
    if (!Array.isArray(added)) throw new Error(`${source}: added_tokens must be a list`);
    if (added.length > MAX_TOKEN_ID + 1) throw new Error(`${source}: added_tokens has ${added.length} entries, more than ${MAX_TOKEN_ID + 1}`);
    for (const [i, t] of added.entries()) {
      if (!isObject(t)) throw new Error(`${source}: added_tokens[${i}] is not an object`);
      checkId(t.id, `added token ${JSON.stringify(t.content)} (added_tokens[${i}])`, source);
    }
  }
  const model = tokenizerJson.model;
  const vocab = isObject(model) ? model.vocab : undefined;
  if (Array.isArray(vocab)) {
    // Unigram: [[piece, score], ...], ids are positions
    if (vocab.length > MAX_TOKEN_ID + 1) throw new Error(`${source}: model.vocab has ${vocab.length} entries, more than ${MAX_TOKEN_ID + 1}`);
  } else if (isObject(vocab)) {
    for (const [token, id] of Object.entries(vocab)) checkId(id, `vocabulary token ${JSON.stringify(token)}`, source);
  }
}
