// config.json parsing (public configs of SmolLM2-135M, Qwen2.5-0.5B, Llama-3.2-1B), parameter counts, and
// the errors for missing/invalid fields, unsupported architectures and RoPE scalings; weight validation.
import { describe, expect, test } from 'vitest';
import { llamaParamCount, parseHfConfig } from '../../src/model/config';
import { expectedShapes, validateWeights, type WeightMap } from '../../src/model/weights';
import { randomWeights, tinyConfig } from './tiny';

// the fields that matter, as published on the Hugging Face hub
const SMOLLM2_135M = {
  architectures: ['LlamaForCausalLM'], model_type: 'llama', hidden_size: 576, intermediate_size: 1536,
  num_hidden_layers: 30, num_attention_heads: 9, num_key_value_heads: 3, vocab_size: 49152,
  rms_norm_eps: 1e-5, rope_theta: 100000, rope_scaling: null, max_position_embeddings: 8192,
  tie_word_embeddings: true, attention_bias: false, hidden_act: 'silu', bos_token_id: 0, eos_token_id: 0,
  head_dim: 64, mlp_bias: false, torch_dtype: 'bfloat16',
};
const QWEN25_05B = {
  architectures: ['Qwen2ForCausalLM'], model_type: 'qwen2', hidden_size: 896, intermediate_size: 4864,
  num_hidden_layers: 24, num_attention_heads: 14, num_key_value_heads: 2, vocab_size: 151936,
  rms_norm_eps: 1e-6, rope_theta: 1000000, max_position_embeddings: 32768, max_window_layers: 21,
  sliding_window: 32768, use_sliding_window: false, tie_word_embeddings: true, hidden_act: 'silu',
  bos_token_id: 151643, eos_token_id: 151643, torch_dtype: 'bfloat16',
};
const LLAMA32_1B = {
  architectures: ['LlamaForCausalLM'], model_type: 'llama', hidden_size: 2048, intermediate_size: 8192,
  num_hidden_layers: 16, num_attention_heads: 32, num_key_value_heads: 8, head_dim: 64, vocab_size: 128256,
  rms_norm_eps: 1e-5, rope_theta: 500000, max_position_embeddings: 131072, tie_word_embeddings: true,
  rope_scaling: { factor: 32.0, high_freq_factor: 4.0, low_freq_factor: 1.0, original_max_position_embeddings: 8192, rope_type: 'llama3' },
  bos_token_id: 128000, eos_token_id: [128001, 128008, 128009], hidden_act: 'silu', attention_bias: false, mlp_bias: false,
};

const TINYLLAMA_11B = {
  architectures: ['LlamaForCausalLM'], model_type: 'llama', hidden_size: 2048, intermediate_size: 5632,
  num_hidden_layers: 22, num_attention_heads: 32, num_key_value_heads: 4, vocab_size: 32000, rms_norm_eps: 1e-5,
  rope_theta: 10000, rope_scaling: null, max_position_embeddings: 2048, tie_word_embeddings: false,
  bos_token_id: 1, eos_token_id: 2, hidden_act: 'silu', torch_dtype: 'bfloat16',
};
const SMOLLM2_360M = {
  architectures: ['LlamaForCausalLM'], model_type: 'llama', hidden_size: 960, intermediate_size: 2560,
  num_hidden_layers: 32, num_attention_heads: 15, num_key_value_heads: 5, vocab_size: 49152, rms_norm_eps: 1e-5,
  rope_theta: 100000, max_position_embeddings: 8192, tie_word_embeddings: true, bos_token_id: 0, eos_token_id: 0,
  hidden_act: 'silu', torch_dtype: 'bfloat16',
};

describe('parseHfConfig', () => {
  test('TinyLlama-1.1B (untied, 4 kv heads) and SmolLM2-360M (15 heads over 5 kv heads): shapes and parameter counts', () => {
    const t = parseHfConfig(TINYLLAMA_11B);
    expect(t).toMatchObject({ hiddenSize: 2048, numLayers: 22, numHeads: 32, numKvHeads: 4, headDim: 64, tieWordEmbeddings: false });
    expect(llamaParamCount(t)).toBe(1_100_048_384);
    expect(expectedShapes(t).get('lm_head.weight')).toEqual([32000, 2048]);
    expect(expectedShapes(t).get('model.layers.0.self_attn.k_proj.weight')).toEqual([256, 2048]);
    const s = parseHfConfig(SMOLLM2_360M);
    expect(s).toMatchObject({ hiddenSize: 960, numHeads: 15, numKvHeads: 5, headDim: 64, tieWordEmbeddings: true });
    expect(llamaParamCount(s)).toBe(361_821_120);
    expect(expectedShapes(s).has('lm_head.weight')).toBe(false);
  });

  test('SmolLM2-135M', () => {
    const c = parseHfConfig(SMOLLM2_135M);
    expect(c).toEqual({
      architecture: 'LlamaForCausalLM', hiddenSize: 576, numLayers: 30, numHeads: 9, numKvHeads: 3, headDim: 64,
      intermediateSize: 1536, vocabSize: 49152, rmsNormEps: 1e-5, ropeTheta: 100000, ropeScaling: null,
      ropeConvention: 'half', maxPositionEmbeddings: 8192, tieWordEmbeddings: true, attentionBias: false,
      bosTokenId: 0, eosTokenIds: [0], modelType: 'llama',
    });
    expect(llamaParamCount(c)).toBe(134_515_008);
  });

  test('Qwen2.5-0.5B: q/k/v biases, 494,032,768 parameters', () => {
    const c = parseHfConfig(QWEN25_05B);
    expect(c.architecture).toBe('Qwen2ForCausalLM');
    expect(c.attentionBias).toBe(true);
    expect(c.headDim).toBe(64); // 896 / 14
    expect(c.ropeTheta).toBe(1e6);
    expect(llamaParamCount(c)).toBe(494_032_768);
    // llamaParamCount counts exactly the tensors of expectedShapes
    let n = 0;
    for (const s of expectedShapes(c).values()) n += s.reduce((a, b) => a * b, 1);
    expect(n).toBe(494_032_768);
  });

  test('Llama-3.2-1B: llama3 RoPE scaling and a list of EOS ids', () => {
    const c = parseHfConfig(LLAMA32_1B);
    expect(c.ropeScaling).toEqual({ type: 'llama3', factor: 32, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositionEmbeddings: 8192 });
    expect(c.eosTokenIds).toEqual([128001, 128008, 128009]);
    expect(c.bosTokenId).toBe(128000);
  });

  test('defaults: kv heads = heads, head_dim = hidden / heads, untied; transformers v5 rope_parameters', () => {
    const c = parseHfConfig({
      model_type: 'llama', hidden_size: 64, intermediate_size: 128, num_hidden_layers: 2, num_attention_heads: 4, vocab_size: 100,
      rope_parameters: { rope_type: 'default', rope_theta: 5000 },
    });
    expect(c.numKvHeads).toBe(4);
    expect(c.headDim).toBe(16);
    expect(c.tieWordEmbeddings).toBe(false);
    expect(c.ropeTheta).toBe(5000);
    expect(c.ropeScaling).toBeNull();
    expect(c.rmsNormEps).toBe(1e-6);
    expect(c.bosTokenId).toBeNull();
    expect(c.eosTokenIds).toEqual([]);
    const mistral = parseHfConfig({ ...SMOLLM2_135M, architectures: ['MistralForCausalLM'], model_type: 'mistral', sliding_window: 4096 });
    expect(mistral.architecture).toBe('MistralForCausalLM');
    expect(mistral.maxPositionEmbeddings).toBe(4096); // capped at the sliding window
  });

  test('errors name the field and the file', () => {
    const without = (field: string) => Object.fromEntries(Object.entries(SMOLLM2_135M).filter(([k]) => k !== field));
    const cases: [unknown, RegExp][] = [
      [without('hidden_size'), /^my\/config.json: hidden_size is missing \(a positive integer is required\)$/],
      [{ ...SMOLLM2_135M, num_hidden_layers: '30' }, /my\/config.json: num_hidden_layers must be a positive integer, got "30"/],
      [{ ...SMOLLM2_135M, vocab_size: 0 }, /vocab_size must be a positive integer, got 0/],
      [{ ...SMOLLM2_135M, rms_norm_eps: -1 }, /rms_norm_eps must be a positive number, got -1/],
      [{ ...SMOLLM2_135M, tie_word_embeddings: 'yes' }, /tie_word_embeddings must be true or false, got "yes"/],
      [{ ...SMOLLM2_135M, model_type: 'gpt2' }, /my\/config.json: model_type "gpt2" is not supported \(supported: llama, mistral, qwen2, qwen3, gemma3_text, qwen3_5_text, gemma3, gemma4_text, gemma4, qwen3_5\)/],
      [without('model_type'), /model_type is missing or not a string/],
      [{ ...SMOLLM2_135M, architectures: ['LlamaForSequenceClassification'] }, /architectures names no supported architecture/],
      [{ ...SMOLLM2_135M, num_key_value_heads: 2 }, /num_key_value_heads must divide num_attention_heads \(9\), got 2/],
      [{ ...without('head_dim'), num_attention_heads: 7, num_key_value_heads: 7 }, /num_attention_heads must divide hidden_size \(576\)/],
      [{ ...SMOLLM2_135M, head_dim: 63 }, /head_dim must be even for RoPE, got 63/],
      [{ ...SMOLLM2_135M, hidden_act: 'gelu' }, /hidden_act must be "silu"/],
      [{ ...SMOLLM2_135M, mlp_bias: true }, /mlp_bias is true/],
      [{ ...QWEN25_05B, use_sliding_window: true }, /use_sliding_window is true/],
      [{ ...SMOLLM2_135M, rope_scaling: { type: 'dynamic', factor: 2 } }, /my\/config.json: rope_scaling has rope type "dynamic", which is not supported \(only "llama3" or "linear" scaling, or none\)/],
      [{ ...SMOLLM2_135M, rope_scaling: { rope_type: 'yarn', factor: 4 } }, /rope_scaling has rope type "yarn"/],
      [{ ...LLAMA32_1B, rope_scaling: { ...LLAMA32_1B.rope_scaling, factor: 'big' } }, /rope_scaling.factor must be a positive number, got "big"/],
      [{ ...SMOLLM2_135M, eos_token_id: [1, 'x'] }, /eos_token_id must be a token id or a list of token ids/],
      [[1, 2], /my\/config.json: expected a JSON object/],
    ];
    for (const [json, message] of cases) expect(() => parseHfConfig(json, 'my/config.json')).toThrow(message);
  });
});

describe('validateWeights', () => {
  test('accepts exactly the expected tensors and names the first problem', () => {
    const c = tinyConfig({ attentionBias: true, tieWordEmbeddings: false });
    const w = randomWeights(c, 1);
    expect(expectedShapes(c).size).toBe(1 + 2 * 12 + 2);
    validateWeights(c, w, 'm.safetensors');
    const missing: WeightMap = new Map(w);
    missing.delete('model.layers.1.self_attn.k_proj.bias');
    expect(() => validateWeights(c, missing, 'm.safetensors')).toThrow(
      /m.safetensors: missing tensor model.layers.1.self_attn.k_proj.bias \(expected shape \[4\]\)/,
    );
    const extra: WeightMap = new Map(w);
    extra.set('model.layers.0.mlp.gate_proj.bias', { shape: [12], data: new Float32Array(12) });
    expect(() => validateWeights(c, extra, 'm.safetensors')).toThrow(/m.safetensors: unexpected tensor model.layers.0.mlp.gate_proj.bias \[12\]/);
    const wrong: WeightMap = new Map(w);
    wrong.set('model.layers.0.mlp.down_proj.weight', { shape: [12, 8], data: new Float32Array(96) });
    expect(() => validateWeights(c, wrong, 'm.safetensors')).toThrow(
      /m.safetensors: tensor model.layers.0.mlp.down_proj.weight has shape \[12, 8\], expected \[8, 12\]/,
    );
    const short: WeightMap = new Map(w);
    short.set('model.norm.weight', { shape: [8], data: new Float32Array(7) });
    expect(() => validateWeights(c, short, 'm.safetensors')).toThrow(/model.norm.weight \[8\] holds 7 values, expected 8/);
  });
});
