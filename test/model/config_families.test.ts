// Qwen3 and Gemma 3 configs as the Hub publishes them (and as transformers v5 writes them): shapes, family
// fields, parameter counts of the released models, and every refusal naming the field, the file and what is
// supported; folders whose tensors do not match the family name the tensor; the language model of a
// Gemma3ForConditionalGeneration checkpoint.
import { describe, expect, test } from 'vitest';
import { llamaParamCount, parseHfConfig } from '../../src/model/config';
import { expectedShapes, type WeightMap } from '../../src/model/weights';
import { loadHfFolder } from '../../src/model/load';
import { writeSafetensors } from '../../src/model/safetensors';
import { transformerForward } from '../../src/reference/transformer';
import { memFile, randomTokens, randomWeights, tinyTokenizerJson } from './tiny';

const QWEN3_06B = {
  architectures: ['Qwen3ForCausalLM'], attention_bias: false, attention_dropout: 0.0, bos_token_id: 151643, eos_token_id: 151645,
  head_dim: 128, hidden_act: 'silu', hidden_size: 1024, initializer_range: 0.02, intermediate_size: 3072,
  max_position_embeddings: 40960, max_window_layers: 28, model_type: 'qwen3', num_attention_heads: 16, num_hidden_layers: 28,
  num_key_value_heads: 8, rms_norm_eps: 1e-6, rope_scaling: null, rope_theta: 1000000, sliding_window: null,
  tie_word_embeddings: true, torch_dtype: 'bfloat16', use_cache: true, use_sliding_window: false, vocab_size: 151936,
};

const GEMMA3_270M_LAYERS = Array.from({ length: 18 }, (_, i) => ((i + 1) % 6 === 0 ? 'full_attention' : 'sliding_attention'));
const GEMMA3_270M = {
  architectures: ['Gemma3ForCausalLM'], attention_bias: false, attention_dropout: 0.0, attn_logit_softcapping: null, bos_token_id: 2,
  eos_token_id: 1, final_logit_softcapping: null, head_dim: 256, hidden_activation: 'gelu_pytorch_tanh', hidden_size: 640,
  initializer_range: 0.02, intermediate_size: 2048, layer_types: GEMMA3_270M_LAYERS, max_position_embeddings: 32768,
  model_type: 'gemma3_text', num_attention_heads: 4, num_hidden_layers: 18, num_key_value_heads: 1, pad_token_id: 0,
  query_pre_attn_scalar: 256, rms_norm_eps: 1e-6, rope_local_base_freq: 10000.0, rope_scaling: null, rope_theta: 1000000.0,
  sliding_window: 512, torch_dtype: 'bfloat16', use_bidirectional_attention: false, use_cache: true, vocab_size: 262144,
};

/** Gemma-3-4B-it's config.json: the language model's fields in text_config, many left at their defaults. */
const GEMMA3_4B_IT = {
  architectures: ['Gemma3ForConditionalGeneration'], boi_token_index: 255999, eoi_token_index: 256000, eos_token_id: [1, 106],
  image_token_index: 262144, initializer_range: 0.02, mm_tokens_per_image: 256, model_type: 'gemma3',
  text_config: {
    hidden_size: 2560, intermediate_size: 10240, model_type: 'gemma3_text', num_hidden_layers: 34,
    rope_scaling: { factor: 8.0, rope_type: 'linear' }, sliding_window: 1024,
  },
  torch_dtype: 'bfloat16',
  vision_config: { hidden_size: 1152, image_size: 896, model_type: 'siglip_vision_model', num_hidden_layers: 27, patch_size: 14 },
};

describe('Qwen3 and Gemma 3 configs', () => {
  test('Qwen3-0.6B: q/k norms, 16 heads x 128 != hidden 1024, 596,049,920 parameters', () => {
    const c = parseHfConfig(QWEN3_06B);
    expect(c).toMatchObject({
      architecture: 'Qwen3ForCausalLM', modelType: 'qwen3', hiddenSize: 1024, numHeads: 16, numKvHeads: 8, headDim: 128,
      qkNorm: true, attentionBias: false, tieWordEmbeddings: true, ropeTheta: 1e6, eosTokenIds: [151645],
    });
    expect(c.sandwichNorms).toBeUndefined();
    expect(expectedShapes(c).get('model.layers.0.self_attn.q_proj.weight')).toEqual([2048, 1024]);
    expect(expectedShapes(c).get('model.layers.0.self_attn.o_proj.weight')).toEqual([1024, 2048]);
    expect(expectedShapes(c).get('model.layers.27.self_attn.k_norm.weight')).toEqual([128]);
    expect(llamaParamCount(c)).toBe(596_049_920);
    // attention_bias: a bias on all four projections
    const biased = parseHfConfig({ ...QWEN3_06B, attention_bias: true });
    expect(biased).toMatchObject({ attentionBias: true, oProjBias: true });
    expect(expectedShapes(biased).get('model.layers.0.self_attn.o_proj.bias')).toEqual([1024]);
  });

  test('Gemma-3-270M (the Hub format): every Gemma field, 268,098,176 parameters', () => {
    const c = parseHfConfig(GEMMA3_270M);
    expect(c).toMatchObject({
      architecture: 'Gemma3ForCausalLM', modelType: 'gemma3_text', hiddenSize: 640, numHeads: 4, numKvHeads: 1, headDim: 256,
      qkNorm: true, normWeightOffset: 1, embedScale: Math.fround(Math.sqrt(640)), attentionScale: 1 / 16, sandwichNorms: true,
      hiddenAct: 'gelu_tanh', slidingWindow: 512, ropeTheta: 1e6, ropeScaling: null, ropeLocalTheta: 10000, ropeLocalScaling: null,
      tieWordEmbeddings: true, vocabSize: 262144,
    });
    expect(c.layerTypes).toEqual(GEMMA3_270M_LAYERS);
    expect(expectedShapes(c).get('model.layers.3.pre_feedforward_layernorm.weight')).toEqual([640]);
    expect(expectedShapes(c).get('model.layers.3.post_feedforward_layernorm.weight')).toEqual([640]);
    expect(expectedShapes(c).has('lm_head.weight')).toBe(false);
    expect(llamaParamCount(c)).toBe(268_098_176);
    // without layer_types: every sliding_window_pattern-th layer (default 6) is full, as Gemma3TextConfig derives it
    const { layer_types: _unused, ...older } = GEMMA3_270M;
    void _unused;
    expect(parseHfConfig(older).layerTypes).toEqual(GEMMA3_270M_LAYERS);
    expect(parseHfConfig({ ...older, sliding_window_pattern: 3 }).layerTypes!.slice(0, 6)).toEqual([
      'sliding_attention', 'sliding_attention', 'full_attention', 'sliding_attention', 'sliding_attention', 'full_attention',
    ]);
  });

  test('transformers v5 rope_parameters per layer type give the same model as rope_theta / rope_local_base_freq / rope_scaling', () => {
    const hub = parseHfConfig({ ...GEMMA3_270M, rope_scaling: { rope_type: 'linear', factor: 8 } });
    const { rope_theta: _t, rope_local_base_freq: _l, rope_scaling: _s, ...rest } = GEMMA3_270M;
    void [_t, _l, _s];
    const v5 = parseHfConfig({
      ...rest,
      rope_parameters: {
        full_attention: { rope_type: 'linear', rope_theta: 1000000, factor: 8 },
        sliding_attention: { rope_type: 'default', rope_theta: 10000 },
      },
    });
    expect(v5).toEqual(hub);
    expect(v5.ropeScaling).toEqual({ type: 'linear', factor: 8 });
  });

  test('Gemma3ForConditionalGeneration: the language model of text_config, with transformers defaults and the outer eos ids', () => {
    const c = parseHfConfig(GEMMA3_4B_IT);
    expect(c).toMatchObject({
      architecture: 'Gemma3ForConditionalGeneration', modelType: 'gemma3_text', hiddenSize: 2560, numLayers: 34, numHeads: 8,
      numKvHeads: 4, headDim: 256, vocabSize: 262208, slidingWindow: 1024, ropeScaling: { type: 'linear', factor: 8 },
      attentionScale: 1 / 16, eosTokenIds: [1, 106], tieWordEmbeddings: true,
    });
    expect(c.layerTypes!.filter((t) => t === 'full_attention').length).toBe(5); // layers 5, 11, 17, 23, 29
  });

  test('bad configs: the field, the file and what is supported', () => {
    const cases: [unknown, RegExp][] = [
      [{ ...QWEN3_06B, model_type: 'phi3' }, /^m\/config.json: model_type "phi3" is not supported \(supported: llama, mistral, qwen2, qwen3, gemma3_text, qwen3_5_text, gemma3, gemma4_text, gemma4, qwen3_5\)$/],
      [{ ...QWEN3_06B, use_sliding_window: true }, /m\/config.json: use_sliding_window is true: sliding-window attention is not supported/],
      [{ ...GEMMA3_270M, final_logit_softcapping: 30 }, /m\/config.json: final_logit_softcapping is set: logit soft-capping is not supported .* got 30/],
      [{ ...GEMMA3_270M, attn_logit_softcapping: 50 }, /attn_logit_softcapping is set: logit soft-capping is not supported/],
      [{ ...GEMMA3_270M, hidden_activation: 'gelu' }, /hidden_activation must be "gelu_pytorch_tanh" .* got "gelu"/],
      [{ ...GEMMA3_270M, layer_types: ['full_attention'] }, /layer_types must be a list of num_hidden_layers \(18\) entries/],
      [{ ...GEMMA3_270M, layer_types: GEMMA3_270M_LAYERS.map((t, i) => (i === 4 ? 'chunked_attention' : t)) }, /layer_types\[4\] must be "full_attention" or "sliding_attention", got "chunked_attention"/],
      [{ ...GEMMA3_270M, sliding_window: 0 }, /sliding_window must be a positive integer, got 0/],
      [{ ...GEMMA3_270M, rope_scaling: { rope_type: 'yarn', factor: 4 } }, /rope_scaling has rope type "yarn", which is not supported/],
      [{ ...GEMMA3_270M, use_bidirectional_attention: true }, /use_bidirectional_attention is true/],
      [{ ...GEMMA3_4B_IT, text_config: undefined }, /m\/config.json: text_config is missing or not an object: a Gemma 3 multimodal config/],
      [{ ...GEMMA3_4B_IT, text_config: { ...GEMMA3_4B_IT.text_config, hidden_size: -1 } }, /m\/config.json \(text_config\): hidden_size must be a positive integer, got -1/],
    ];
    for (const [json, message] of cases) expect(() => parseHfConfig(json, 'm/config.json')).toThrow(message);
  });
});

/** A tiny folder (the small generated tokenizer, vocab 24) with the given config and tensors. */
function folder(dir: string, configJson: unknown, tensors: WeightMap) {
  return [
    memFile(`${dir}/config.json`, JSON.stringify(configJson)),
    memFile(`${dir}/tokenizer.json`, JSON.stringify(tinyTokenizerJson())),
    memFile(`${dir}/model.safetensors`, writeSafetensors(tensors, { format: 'pt' })),
  ];
}

const TINY_QWEN3 = { ...QWEN3_06B, vocab_size: 24, hidden_size: 8, intermediate_size: 12, num_hidden_layers: 2, num_attention_heads: 2, num_key_value_heads: 1, head_dim: 8, bos_token_id: 0, eos_token_id: 1 };
const TINY_GEMMA3 = {
  ...GEMMA3_270M, vocab_size: 24, hidden_size: 8, intermediate_size: 12, num_hidden_layers: 2, num_attention_heads: 2,
  num_key_value_heads: 1, head_dim: 8, query_pre_attn_scalar: 8, sliding_window: 2, layer_types: ['sliding_attention', 'full_attention'],
  bos_token_id: 0, eos_token_id: 1,
};

describe('checkpoints against their family', () => {
  test('a qwen3 checkpoint without q_norm names the tensor; a qwen2 checkpoint labelled qwen3 too', async () => {
    const c = parseHfConfig(TINY_QWEN3);
    const w = randomWeights(c, 1);
    await expect(loadHfFolder(folder('q', TINY_QWEN3, w))).resolves.toBeTruthy();
    const missing = new Map(w);
    missing.delete('model.layers.1.self_attn.q_norm.weight');
    await expect(loadHfFolder(folder('q', TINY_QWEN3, missing))).rejects.toThrow(
      /q\/model.safetensors: missing tensor model.layers.1.self_attn.q_norm.weight \(expected shape \[8\]\): a qwen3 \(Qwen3ForCausalLM\) checkpoint with this config has it/,
    );
    const gemmaNorms = new Map(w);
    gemmaNorms.set('model.layers.0.pre_feedforward_layernorm.weight', { shape: [8], data: new Float32Array(8) });
    await expect(loadHfFolder(folder('q', TINY_QWEN3, gemmaNorms))).rejects.toThrow(
      /unexpected tensor model.layers.0.pre_feedforward_layernorm.weight \[8\] \(not part of a qwen3 \(Qwen3ForCausalLM\) model with this config\)/,
    );
  });

  test('a gemma3_text checkpoint without its post_feedforward_layernorm names the tensor', async () => {
    const c = parseHfConfig(TINY_GEMMA3);
    const w = randomWeights(c, 2);
    w.delete('model.layers.0.post_feedforward_layernorm.weight');
    await expect(loadHfFolder(folder('g', TINY_GEMMA3, w))).rejects.toThrow(/missing tensor model.layers.0.post_feedforward_layernorm.weight/);
  });

  test('Gemma3ForConditionalGeneration: the language model loads under both tensor layouts; without it the message says so', async () => {
    const textConfig = { ...TINY_GEMMA3, architectures: undefined, model_type: 'gemma3_text' };
    const outer = { architectures: ['Gemma3ForConditionalGeneration'], model_type: 'gemma3', text_config: textConfig, eos_token_id: [1] };
    const c = parseHfConfig(TINY_GEMMA3);
    const w = randomWeights(c, 3);
    const vision: [string, { shape: number[]; data: Float32Array }][] = [
      ['vision_tower.vision_model.embeddings.patch_embedding.weight', { shape: [4, 3], data: new Float32Array(12) }],
      ['multi_modal_projector.mm_input_projection_weight', { shape: [3, 8], data: new Float32Array(24) }],
    ];
    const tokens = randomTokens(5, 24, 4);
    const want = transformerForward(c, w, tokens, 1, 5).logits;
    for (const prefix of ['language_model.model.', 'model.language_model.']) {
      const renamed: WeightMap = new Map([...w].map(([k, t]) => [prefix + k.slice('model.'.length), t]));
      for (const [k, t] of vision) renamed.set(prefix.startsWith('model.') ? `model.${k}` : k, t);
      const m = await loadHfFolder(folder('mm', outer, renamed));
      expect(m.config.architecture).toBe('Gemma3ForConditionalGeneration');
      expect([...m.weights.keys()].sort()).toEqual([...w.keys()].sort());
      expect(transformerForward(m.config, m.weights, tokens, 1, 5).logits).toEqual(want);
    }
    await expect(loadHfFolder(folder('mm', outer, new Map(vision)))).rejects.toThrow(
      /mm\/config.json: a Gemma3ForConditionalGeneration checkpoint, but its files hold no language-model tensors \(expected language_model.model.\* or model.language_model.\*; found vision_tower.vision_model, multi_modal_projector.mm_input_projection_weight\)/,
    );
  });
});
