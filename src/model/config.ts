// The model's shape and numerics, one interface for every checkpoint format (Hugging Face config.json,
// llama2.c headers). Letters: C hidden size, NH heads, NKV kv heads, HS head size, H MLP hidden, V vocab.

/** Llama 3.1's frequency-dependent RoPE scaling (Hugging Face `rope_type: "llama3"`). */
export interface RopeScaling {
  type: 'llama3';
  factor: number;
  lowFreqFactor: number;
  highFreqFactor: number;
  originalMaxPositionEmbeddings: number;
}

export interface ModelConfig {
  /** e.g. 'LlamaForCausalLM', 'Qwen2ForCausalLM', 'llama2.c' */
  architecture: string;
  /** C */
  hiddenSize: number;
  numLayers: number;
  /** NH */
  numHeads: number;
  /** NKV */
  numKvHeads: number;
  /** HS (config head_dim, else hidden_size / num_attention_heads) */
  headDim: number;
  /** H (MLP hidden) */
  intermediateSize: number;
  /** V */
  vocabSize: number;
  rmsNormEps: number;
  ropeTheta: number;
  ropeScaling: RopeScaling | null;
  /** llama2.c: interleaved pairs (0,1),(2,3)...; Hugging Face: rotate-half pairs (i, i + HS/2) */
  ropeConvention: 'interleaved' | 'half';
  maxPositionEmbeddings: number;
  tieWordEmbeddings: boolean;
  /** q/k/v biases (Qwen2) */
  attentionBias: boolean;
  bosTokenId: number | null;
  eosTokenIds: number[];
}

type Json = Record<string, unknown>;

/** model_type -> architecture name and the defaults of its transformers config class. */
const MODEL_TYPES: Record<string, { architecture: string; maxPositions: number; attentionBias: boolean | null }> = {
  // attentionBias null: read `attention_bias` (Llama applies it to o_proj too, which we refuse)
  llama: { architecture: 'LlamaForCausalLM', maxPositions: 2048, attentionBias: null },
  mistral: { architecture: 'MistralForCausalLM', maxPositions: 4096 * 32, attentionBias: false },
  // Qwen2 always has q/k/v biases and none on o_proj
  qwen2: { architecture: 'Qwen2ForCausalLM', maxPositions: 32768, attentionBias: true },
};

const SUPPORTED_ARCHITECTURES = new Set(Object.values(MODEL_TYPES).map((m) => m.architecture));

function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}

/** Reads config.json fields with errors that name the field and the file. */
class FieldReader {
  constructor(
    private readonly json: Json,
    private readonly source: string,
  ) {}

  /** `value` (optional) is quoted in the message as what the file holds. */
  fail(field: string, why: string, ...value: unknown[]): never {
    const got = value.length ? `, got ${describe(value[0])}` : '';
    throw new Error(`${this.source}: ${field} ${why}${got}`);
  }

  has(field: string): boolean {
    return this.json[field] !== undefined && this.json[field] !== null;
  }

  positiveInt(field: string, fallback?: number): number {
    const v = this.json[field];
    if (v === undefined || v === null) {
      if (fallback !== undefined) return fallback;
      this.fail(field, 'is missing (a positive integer is required)');
    }
    if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) this.fail(field, 'must be a positive integer', v);
    return v;
  }

  positiveNumber(field: string, fallback: number, obj: Json = this.json, prefix = ''): number {
    const v = obj[field];
    if (v === undefined || v === null) return fallback;
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) this.fail(prefix + field, 'must be a positive number', v);
    return v;
  }

  bool(field: string, fallback: boolean): boolean {
    const v = this.json[field];
    if (v === undefined || v === null) return fallback;
    if (typeof v !== 'boolean') this.fail(field, 'must be true or false', v);
    return v;
  }

  /** null/absent -> []; a token id or a list of ids. */
  tokenIds(field: string): number[] {
    const v = this.json[field];
    if (v === undefined || v === null) return [];
    const list = Array.isArray(v) ? v : [v];
    for (const id of list) {
      if (typeof id !== 'number' || !Number.isInteger(id) || id < 0) this.fail(field, 'must be a token id or a list of token ids', v);
    }
    return list as number[];
  }
}

function parseRopeScaling(r: FieldReader, raw: unknown, field: string, maxPositions: number): RopeScaling | null {
  if (raw === undefined || raw === null) return null;
  if (typeof raw !== 'object' || Array.isArray(raw)) r.fail(field, 'must be an object or null', raw);
  const obj = raw as Json;
  const type = obj.rope_type ?? obj.type;
  if (type === undefined || type === 'default') return null;
  if (type !== 'llama3') {
    r.fail(field, `has rope type ${describe(type)}, which is not supported (only "llama3" scaling or none)`);
  }
  const num = (name: string, fallback?: number): number => {
    const v = obj[name];
    if (v === undefined && fallback !== undefined) return fallback;
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) r.fail(`${field}.${name}`, 'must be a positive number', v);
    return v;
  };
  const scaling: RopeScaling = {
    type: 'llama3',
    factor: num('factor'),
    lowFreqFactor: num('low_freq_factor'),
    highFreqFactor: num('high_freq_factor'),
    originalMaxPositionEmbeddings: num('original_max_position_embeddings', maxPositions),
  };
  if (scaling.highFreqFactor <= scaling.lowFreqFactor) {
    r.fail(`${field}.high_freq_factor`, `must be greater than low_freq_factor (${scaling.lowFreqFactor})`, scaling.highFreqFactor);
  }
  return scaling;
}

/** Parses and validates a Hugging Face config.json (Llama, SmolLM, Mistral, Qwen2). Every problem is one
 * Error naming the field and the file. */
export function parseHfConfig(json: unknown, source = 'config.json'): ModelConfig {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new Error(`${source}: expected a JSON object, got ${describe(json)}`);
  }
  const obj = json as Json;
  const r: FieldReader = new FieldReader(obj, source); // annotated: lets r.fail() (never) narrow types

  const modelType = obj.model_type;
  if (typeof modelType !== 'string') r.fail('model_type', 'is missing or not a string (expected "llama", "mistral" or "qwen2")', modelType);
  const family = MODEL_TYPES[modelType];
  if (!family) {
    r.fail('model_type', `"${modelType}" is not supported (supported: ${Object.keys(MODEL_TYPES).join(', ')})`);
  }
  let architecture = family.architecture;
  if (obj.architectures !== undefined && obj.architectures !== null) {
    const archs = obj.architectures;
    if (!Array.isArray(archs) || archs.some((a) => typeof a !== 'string')) r.fail('architectures', 'must be a list of strings', archs);
    if (archs.length > 0) {
      const known = (archs as string[]).find((a) => SUPPORTED_ARCHITECTURES.has(a));
      if (!known) {
        r.fail('architectures', `names no supported architecture (supported: ${[...SUPPORTED_ARCHITECTURES].join(', ')})`, archs);
      }
      architecture = known;
    }
  }

  const hiddenAct = obj.hidden_act ?? 'silu';
  if (hiddenAct !== 'silu') r.fail('hidden_act', 'must be "silu" (SwiGLU MLP)', hiddenAct);
  if (obj.mlp_bias === true) r.fail('mlp_bias', 'is true: MLP biases are not supported');

  const hiddenSize = r.positiveInt('hidden_size');
  const numLayers = r.positiveInt('num_hidden_layers');
  const numHeads = r.positiveInt('num_attention_heads');
  const numKvHeads = r.positiveInt('num_key_value_heads', numHeads);
  if (numHeads % numKvHeads !== 0) {
    r.fail('num_key_value_heads', `must divide num_attention_heads (${numHeads})`, numKvHeads);
  }
  let headDim: number;
  if (r.has('head_dim')) {
    headDim = r.positiveInt('head_dim');
  } else {
    if (hiddenSize % numHeads !== 0) {
      r.fail('num_attention_heads', `must divide hidden_size (${hiddenSize}) when head_dim is not given`, numHeads);
    }
    headDim = hiddenSize / numHeads;
  }
  if (headDim % 2 !== 0) r.fail(r.has('head_dim') ? 'head_dim' : 'hidden_size / num_attention_heads', 'must be even for RoPE', headDim);
  const intermediateSize = r.positiveInt('intermediate_size');
  const vocabSize = r.positiveInt('vocab_size');

  // transformers v5 moves rope_theta / rope_scaling into rope_parameters
  const ropeParams = obj.rope_parameters;
  const ropeObj = typeof ropeParams === 'object' && ropeParams !== null && !Array.isArray(ropeParams) ? (ropeParams as Json) : null;
  const ropeTheta = ropeObj && ropeObj.rope_theta !== undefined
    ? r.positiveNumber('rope_theta', 10000, ropeObj, 'rope_parameters.')
    : r.positiveNumber('rope_theta', 10000);
  let maxPositionEmbeddings = r.positiveInt('max_position_embeddings', family.maxPositions);
  const ropeScaling = obj.rope_scaling !== undefined && obj.rope_scaling !== null
    ? parseRopeScaling(r, obj.rope_scaling, 'rope_scaling', maxPositionEmbeddings)
    : parseRopeScaling(r, ropeObj, 'rope_parameters', maxPositionEmbeddings);
  if (obj.partial_rotary_factor !== undefined && obj.partial_rotary_factor !== 1) {
    r.fail('partial_rotary_factor', 'must be 1 (partial RoPE is not supported)', obj.partial_rotary_factor);
  }

  let attentionBias: boolean;
  if (family.attentionBias === null) {
    if (r.bool('attention_bias', false)) {
      r.fail('attention_bias', 'is true: Llama puts a bias on o_proj as well, which is not supported');
    }
    attentionBias = false;
  } else {
    attentionBias = family.attentionBias;
  }
  if (modelType === 'qwen2' && r.bool('use_sliding_window', false)) {
    r.fail('use_sliding_window', 'is true: sliding-window attention is not supported');
  }
  if (modelType === 'mistral' && r.has('sliding_window')) {
    // Within the window, sliding-window attention is plain causal attention: cap the context at it.
    maxPositionEmbeddings = Math.min(maxPositionEmbeddings, r.positiveInt('sliding_window'));
  }

  const bos = r.tokenIds('bos_token_id');
  if (bos.length > 1) r.fail('bos_token_id', 'must be a single token id', obj.bos_token_id);
  return {
    architecture,
    hiddenSize,
    numLayers,
    numHeads,
    numKvHeads,
    headDim,
    intermediateSize,
    vocabSize,
    rmsNormEps: r.positiveNumber('rms_norm_eps', 1e-6),
    ropeTheta,
    ropeScaling,
    ropeConvention: 'half',
    maxPositionEmbeddings,
    tieWordEmbeddings: r.bool('tie_word_embeddings', false),
    attentionBias,
    bosTokenId: bos.length ? bos[0] : null,
    eosTokenIds: r.tokenIds('eos_token_id'),
  };
}

/** Number of parameters of a Llama-family model with this config (the tensors of expectedShapes). */
export function llamaParamCount(c: ModelConfig): number {
  const C = c.hiddenSize;
  const QD = c.numHeads * c.headDim;
  const KVD = c.numKvHeads * c.headDim;
  const H = c.intermediateSize;
  const perLayer =
    C + // input_layernorm
    QD * C + 2 * KVD * C + C * QD + // q, k, v, o
    (c.attentionBias ? QD + 2 * KVD : 0) +
    C + // post_attention_layernorm
    3 * H * C; // gate, up, down
  return c.vocabSize * C + c.numLayers * perLayer + C + (c.tieWordEmbeddings ? 0 : c.vocabSize * C);
}
