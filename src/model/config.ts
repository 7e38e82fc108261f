// The model's shape and numerics, one interface for every checkpoint format (Hugging Face config.json,
// llama2.c headers). Letters: C hidden size, NH heads, NKV kv heads, HS head size, H MLP hidden, V vocab.
// Families: llama / mistral / qwen2 (here), qwen3 and gemma3_text (their fields: config_families.ts), gemma4_text
// (gemma4_config.ts).

import { FAMILY_DEFAULTS, familyFields, gemma3TextConfig } from './config_families';
import { isGemma4ModelType, parseGemma4Config, type Gemma4Fields } from './gemma4_config';
import { checkConfigSizes } from './config_bounds';
import { qwen35Fields, qwen35TextConfig, type LinearAttentionShape } from './config_qwen35';

/** Llama 3.1's frequency-dependent RoPE scaling (Hugging Face `rope_type: "llama3"`), or linear position
 * interpolation (`rope_type: "linear"`: every inverse frequency divided by factor; Gemma 3's full layers). */
export type RopeScaling =
  | {
      type: 'llama3';
      factor: number;
      lowFreqFactor: number;
      highFreqFactor: number;
      originalMaxPositionEmbeddings: number;
    }
  | { type: 'linear'; factor: number };

/** linear_attention: Qwen3.5's Gated DeltaNet layers (config_qwen35.ts) */
export type LayerType = 'full_attention' | 'sliding_attention' | 'linear_attention';

/** What a family changes in the Llama layer. Every field is optional: absent means Llama's behaviour, so
 * llama2.c and Llama/Mistral/Qwen2 configs need none of them. */
export interface FamilyFields {
  /** Hugging Face model_type of the language model ('llama', 'qwen2', 'qwen3', 'gemma3_text', ...) */
  modelType?: string;
  /** self_attn.q_norm / k_norm: RMSNorm over head_dim of each head of q and k, before RoPE (Qwen3, Gemma 3) */
  qkNorm?: boolean;
  /** RMSNorm as x * (w + offset): 0 (absent) for Llama, 1 for Gemma's x * (1 + w) (every norm of the model) */
  normWeightOffset?: number;
  /** the embedding is multiplied by this (Gemma: sqrt(hidden) in f32); absent: 1 */
  embedScale?: number;
  /** the attention score scale; absent: 1 / sqrt(head_dim) (Gemma: query_pre_attn_scalar^-1/2) */
  attentionScale?: number;
  /** Gemma's four norms per layer: post_attention_layernorm on the attention output, pre_feedforward_layernorm
   * before the MLP, post_feedforward_layernorm on its output (absent: Llama's two) */
  sandwichNorms?: boolean;
  /** the MLP gate: silu (SwiGLU, absent) or the tanh-approximated GELU (GeGLU, Gemma) */
  hiddenAct?: 'silu' | 'gelu_tanh';
  /** a bias on o_proj too (attention_bias of Llama, Qwen3 and Gemma 3 puts one on all four projections) */
  oProjBias?: boolean;
  /** per layer (absent: all full_attention) */
  layerTypes?: LayerType[];
  /** sliding_attention layers see positions q - k < slidingWindow */
  slidingWindow?: number | null;
  /** RoPE of sliding_attention layers (Gemma: rope_local_base_freq, no scaling) */
  ropeLocalTheta?: number;
  ropeLocalScaling?: RopeScaling | null;
  /** Gemma 4 text: per-layer head sizes, shared K/V, per-layer embeddings, soft-capping (gemma4_config.ts) */
  gemma4?: Gemma4Fields;
  /** Qwen3.5 full layers: q_proj yields per head the query then an equal-sized gate; o * sigmoid(gate) before o_proj */
  attnOutputGate?: boolean;
  /** RoPE rotates only the first rotaryDim of each head (rotate-half within them); absent: all of head_dim */
  rotaryDim?: number;
  /** Qwen3.5: the shape of the linear_attention (Gated DeltaNet) layers of layerTypes */
  linearAttention?: LinearAttentionShape;
}

export interface ModelConfig extends FamilyFields {
  /** e.g. 'LlamaForCausalLM', 'Qwen2ForCausalLM', 'Qwen3ForCausalLM', 'Gemma3ForCausalLM', 'llama2.c' */
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

export type Json = Record<string, unknown>;

/** model_type -> architecture name and the defaults of its transformers config class. */
const MODEL_TYPES: Record<string, { architecture: string; maxPositions: number; attentionBias: boolean | null }> = {
  // attentionBias null: read `attention_bias` (a bias on q, k, v and o_proj)
  llama: { architecture: 'LlamaForCausalLM', maxPositions: 2048, attentionBias: null },
  mistral: { architecture: 'MistralForCausalLM', maxPositions: 4096 * 32, attentionBias: false },
  // Qwen2 always has q/k/v biases and none on o_proj
  qwen2: { architecture: 'Qwen2ForCausalLM', maxPositions: 32768, attentionBias: true },
  qwen3: { architecture: 'Qwen3ForCausalLM', maxPositions: 32768, attentionBias: null },
  gemma3_text: { architecture: 'Gemma3ForCausalLM', maxPositions: 131072, attentionBias: null },
  qwen3_5_text: { architecture: 'Qwen3_5ForCausalLM', maxPositions: 32768, attentionBias: null },
};

/** model_types accepted in config.json: the families above, and gemma3 (Gemma3ForConditionalGeneration),
 * whose language model (text_config) is loaded. */
export const SUPPORTED_MODEL_TYPES = [...Object.keys(MODEL_TYPES), 'gemma3', 'gemma4_text', 'gemma4', 'qwen3_5'];

const SUPPORTED_ARCHITECTURES = new Set(Object.values(MODEL_TYPES).map((m) => m.architecture));

export function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}

/** Reads config.json fields with errors that name the field and the file. */
export class FieldReader {
  constructor(
    readonly json: Json,
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

export function parseRopeScaling(r: FieldReader, raw: unknown, field: string, maxPositions: number): RopeScaling | null {
  if (raw === undefined || raw === null) return null;
  if (typeof raw !== 'object' || Array.isArray(raw)) r.fail(field, 'must be an object or null', raw);
  const obj = raw as Json;
  const type = obj.rope_type ?? obj.type;
  if (type === undefined || type === 'default') return null;
  if (type !== 'llama3' && type !== 'linear') {
    r.fail(field, `has rope type ${describe(type)}, which is not supported (only "llama3" or "linear" scaling, or none)`);
  }
  const num = (name: string, fallback?: number): number => {
    const v = obj[name];
    if (v === undefined && fallback !== undefined) return fallback;
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) r.fail(`${field}.${name}`, 'must be a positive number', v);
    return v;
  };
  if (type === 'linear') return { type: 'linear', factor: num('factor') };
  const scaling: RopeScaling = {
    type: 'llama3',
    factor: num('factor'),
    lowFreqFactor: num('low_freq_factor'),
    highFreqFactor: num('high_freq_factor'),
    originalMaxPositionEmbeddings: num('original_max_position_embeddings', maxPositions),
  };
  if (scaling.type === 'llama3' && scaling.highFreqFactor <= scaling.lowFreqFactor) {
    r.fail(`${field}.high_freq_factor`, `must be greater than low_freq_factor (${scaling.lowFreqFactor})`, scaling.highFreqFactor);
  }
  return scaling;
}

/** Parses and validates a Hugging Face config.json (Llama, SmolLM, Mistral, Qwen2, Qwen3, Gemma 3 text, and
 * the language model of a Gemma 3 multimodal config). Every problem is one Error naming the field and the file. */
export function parseHfConfig(json: unknown, source = 'config.json'): ModelConfig {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new Error(`${source}: expected a JSON object, got ${describe(json)}`);
  }
  const raw = json as Json;
  // sizes bounded before any family's parser loops over them (also the text_config of multimodal checkpoints)
  for (const [obj, prefix] of [[raw, ''], [raw.text_config, 'text_config.']] as const) {
    if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) continue;
    const sizes = Object.fromEntries(
      ['num_hidden_layers', 'hidden_size', 'intermediate_size', 'num_key_value_heads', 'num_attention_heads', 'head_dim', 'vocab_size', 'max_position_embeddings']
        .map((k) => [k, (obj as Json)[k]])
        .filter(([, v]) => typeof v === 'number'),
    ) as Record<string, number>;
    checkConfigSizes(sizes, (f, m, v) => new FieldReader(obj as Json, source).fail(`${prefix}${f}`, m, v));
  }
  if (isGemma4ModelType(raw.model_type)) return parseGemma4Config(raw, source);
  if (raw.model_type === 'gemma3') {
    // Gemma3ForConditionalGeneration: its text_config is a gemma3_text config
    const text = parseHfConfig(gemma3TextConfig(new FieldReader(raw, source)), `${source} (text_config)`);
    return { ...text, architecture: 'Gemma3ForConditionalGeneration' };
  }
  if (raw.model_type === 'qwen3_5') {
    // Qwen3_5ForConditionalGeneration: its text_config is a qwen3_5_text config
    const text = parseHfConfig(qwen35TextConfig(new FieldReader(raw, source)), `${source} (text_config)`);
    return { ...text, architecture: 'Qwen3_5ForConditionalGeneration' };
  }
  const r0: FieldReader = new FieldReader(raw, source);
  const modelType = raw.model_type;
  if (typeof modelType !== 'string') {
    r0.fail('model_type', `is missing or not a string (supported: ${SUPPORTED_MODEL_TYPES.join(', ')})`, modelType);
  }
  const family = MODEL_TYPES[modelType];
  if (!family) {
    r0.fail('model_type', `"${modelType}" is not supported (supported: ${SUPPORTED_MODEL_TYPES.join(', ')})`);
  }
  // fields a family's transformers config class defaults (Gemma 3 multimodal text_configs leave many out)
  const obj: Json = { ...raw };
  for (const [k, v] of Object.entries(FAMILY_DEFAULTS[modelType] ?? {})) if (obj[k] === undefined) obj[k] = v;
  const r: FieldReader = new FieldReader(obj, source); // annotated: lets r.fail() (never) narrow types
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

  if (modelType !== 'gemma3_text') {
    const hiddenAct = obj.hidden_act ?? 'silu';
    if (hiddenAct !== 'silu') r.fail('hidden_act', 'must be "silu" (SwiGLU MLP)', hiddenAct);
  }
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
  checkConfigSizes(
    { num_hidden_layers: numLayers, hidden_size: hiddenSize, intermediate_size: intermediateSize, num_key_value_heads: numKvHeads, num_attention_heads: numHeads, head_dim: headDim, vocab_size: vocabSize },
    (f, m, v) => r.fail(f, m, v),
  );

  // transformers v5 moves rope_theta / rope_scaling into rope_parameters
  const ropeParams = obj.rope_parameters;
  const ropeObj = typeof ropeParams === 'object' && ropeParams !== null && !Array.isArray(ropeParams) ? (ropeParams as Json) : null;
  const ropeTheta = ropeObj && ropeObj.rope_theta !== undefined
    ? r.positiveNumber('rope_theta', 10000, ropeObj, 'rope_parameters.')
    : r.positiveNumber('rope_theta', 10000);
  let maxPositionEmbeddings = r.positiveInt('max_position_embeddings', family.maxPositions);
  checkConfigSizes({ max_position_embeddings: maxPositionEmbeddings }, (f, m, v) => r.fail(f, m, v));
  const ropeScaling = obj.rope_scaling !== undefined && obj.rope_scaling !== null
    ? parseRopeScaling(r, obj.rope_scaling, 'rope_scaling', maxPositionEmbeddings)
    : parseRopeScaling(r, ropeObj, 'rope_parameters', maxPositionEmbeddings);
  if (modelType !== 'qwen3_5_text' && obj.partial_rotary_factor !== undefined && obj.partial_rotary_factor !== 1) {
    r.fail('partial_rotary_factor', 'must be 1 (partial RoPE is not supported)', obj.partial_rotary_factor);
  }

  // attention_bias (Llama, Qwen3, Gemma 3): a bias on q, k, v and o_proj
  const attentionBias = family.attentionBias ?? r.bool('attention_bias', false);
  const oProjBias = family.attentionBias === null && attentionBias;
  if ((modelType === 'qwen2' || modelType === 'qwen3') && r.bool('use_sliding_window', false)) {
    r.fail('use_sliding_window', 'is true: sliding-window attention is not supported');
  }
  if (modelType === 'mistral' && r.has('sliding_window')) {
    // Within the window, sliding-window attention is plain causal attention: cap the context at it.
    maxPositionEmbeddings = Math.min(maxPositionEmbeddings, r.positiveInt('sliding_window'));
  }

  const bos = r.tokenIds('bos_token_id');
  if (bos.length > 1) r.fail('bos_token_id', 'must be a single token id', obj.bos_token_id);
  const families = modelType === 'qwen3_5_text'
    ? qwen35Fields(r, numLayers, headDim)
    : familyFields(r, modelType, { hiddenSize, numLayers, maxPositionEmbeddings });
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
    modelType,
    ...(oProjBias ? { oProjBias } : {}),
    ...families,
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
    (c.oProjBias ? C : 0) +
    (c.qkNorm ? 2 * c.headDim : 0) + // q_norm, k_norm
    C + // post_attention_layernorm
    (c.sandwichNorms ? 2 * C : 0) + // pre_ and post_feedforward_layernorm
    3 * H * C; // gate, up, down
  return c.vocabSize * C + c.numLayers * perLayer + C + (c.tieWordEmbeddings ? 0 : c.vocabSize * C);
}
