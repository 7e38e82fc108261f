// Upper bounds on a model config's sizes, checked before anything is allocated or looped over: a config is
// somebody else's file, and `num_hidden_layers: 1e9` or `vocab_size: 1e12` would otherwise cost minutes of
// CPU or a RangeError deep inside a loader. The bounds are far above every model this playground can run
// in a browser (the largest public configs it knows: Qwen3 vocab 151936, Gemma 3/4 262144, 128k-1M contexts).

export const CONFIG_SIZE_LIMITS: Readonly<Record<string, number>> = {
  num_hidden_layers: 512,
  hidden_size: 65536,
  intermediate_size: 262144,
  num_attention_heads: 1024,
  num_key_value_heads: 1024,
  head_dim: 4096,
  vocab_size: 4194304,
  max_position_embeddings: 16777216,
};

/** Throws through `fail` (which names the file) for the first size above its limit. */
export function checkConfigSizes(sizes: Record<string, number>, fail: (field: string, message: string, value: unknown) => never): void {
  for (const [field, v] of Object.entries(sizes)) {
    const limit = CONFIG_SIZE_LIMITS[field];
    if (limit !== undefined && v > limit) fail(field, `is above this playground's limit of ${limit} (a config this large cannot be a model it can load)`, v);
  }
}
