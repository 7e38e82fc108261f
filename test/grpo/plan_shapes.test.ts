// The shapes a memory plan starts from without weights: a structural config from any decoder config.json
// (qwen3, a Gemma 3 checkpoint's text_config), its dtype, and the worker's config from a model summary
// (tied or untied embeddings told apart by the parameter count).
import { describe, expect, test } from 'vitest';
import { configDtype, structuralConfig } from '../../src/model/structural_config';
import { configFromSummary } from '../../src/worker/plan_request';
import { parameterCount } from '../../src/model/weight_storage';
import { gpuTinyConfig } from '../model/tiny';
import type { ModelSummary } from '../../src/worker/protocol';

describe('plan shapes', () => {
  test('qwen3 and a Gemma 3 checkpoint (text_config) as structural Llamas', () => {
    const q = structuralConfig({ model_type: 'qwen3', hidden_size: 1024, intermediate_size: 3072, num_hidden_layers: 28, num_attention_heads: 16, num_key_value_heads: 8, head_dim: 128, vocab_size: 151936, max_position_embeddings: 40960, tie_word_embeddings: true });
    expect([q.hiddenSize, q.numHeads * q.headDim, q.numKvHeads, q.vocabSize, q.tieWordEmbeddings]).toEqual([1024, 2048, 8, 151936, true]);
    const g = structuralConfig({ architectures: ['Gemma3ForConditionalGeneration'], torch_dtype: 'bfloat16', text_config: { hidden_size: 640, intermediate_size: 2048, num_hidden_layers: 18, num_attention_heads: 4, num_key_value_heads: 1, head_dim: 256, vocab_size: 262144 } });
    expect(g.modelType).toBe('gemma3_text');
    expect(g.tieWordEmbeddings).toBe(true);
    expect(configDtype({ torch_dtype: 'bfloat16' })).toBe('bf16');
    expect(configDtype({ dtype: 'float16' })).toBe('f16');
    expect(() => structuralConfig({ model_type: 'qwen3', hidden_size: 8 }, 'x/config.json')).toThrow(/x\/config\.json: num_attention_heads/);
  });

  for (const tie of [true, false]) {
    test(`a model summary gives back its config (${tie ? 'tied' : 'untied'} embeddings)`, () => {
      const c = gpuTinyConfig({ tieWordEmbeddings: tie, attentionBias: true, architecture: 'Qwen2ForCausalLM' });
      const summary: ModelSummary = {
        name: 'm', architecture: c.architecture, params: parameterCount(c), layers: c.numLayers, hiddenSize: c.hiddenSize,
        intermediateSize: c.intermediateSize, numHeads: c.numHeads, numKvHeads: c.numKvHeads, headDim: c.headDim, vocabSize: c.vocabSize,
        maxPositions: c.maxPositionEmbeddings, dtype: 'f32', weightBytes: parameterCount(c) * 4, hasChatTemplate: false,
      };
      const back = configFromSummary(summary);
      expect(back.tieWordEmbeddings).toBe(tie);
      expect(back.attentionBias).toBe(true);
      expect(parameterCount(back)).toBe(summary.params);
    });
  }
});
