// The base weights by tensor group (src/model/weight_groups.ts, the model panel's table): types per group from a
// GGUF file's blocks and from base_precision "q8_0" / "q4_k", bytes by hand from ggml's block sizes, and the
// total equal to what GpuTransformer.upload allocates and what the memory plan counts.
import { describe, expect, test } from 'vitest';
import { loadGguf } from '../../src/model/gguf/load';
import { quantTypesOf } from '../../src/model/quant_storage';
import { GpuTransformer } from '../../src/model/transformer';
import { weightGroups, weightGroupOf } from '../../src/model/weight_groups';
import { baseWeightBytes, resolveBasePrecision, type BaseStorageOptions } from '../../src/model/weight_storage';
import { testGpu } from '../gpu';
import { ggufModel, q4KM } from './gguf_models';
import { memFile, randomWeights, tinyConfig } from './tiny';

const row = (rows: ReturnType<typeof weightGroups>, g: string) => rows.find((r) => r.group === g)!;

describe('weight groups', () => {
  test('names map to their groups', () => {
    expect(weightGroupOf('model.embed_tokens.weight')).toBe('embeddings');
    expect(weightGroupOf('model.layers.3.self_attn.v_proj.weight')).toBe('attention v');
    expect(weightGroupOf('model.layers.3.self_attn.q_proj.bias')).toBe('biases');
    expect(weightGroupOf('model.layers.3.self_attn.q_norm.weight')).toBe('norms');
    expect(weightGroupOf('model.layers.0.mlp.down_proj.weight')).toBe('MLP down');
    expect(weightGroupOf('lm_head.weight')).toBe('LM head');
  });

  test('a Q4_K_M GGUF: Q4_K / Q6_K per group, bytes from the block sizes, total = the upload = the plan', async () => {
    const c0 = tinyConfig({ hiddenSize: 256, numHeads: 4, numKvHeads: 2, headDim: 64, intermediateSize: 256, vocabSize: 288, maxPositionEmbeddings: 64, tieWordEmbeddings: false });
    const m = ggufModel('llama', c0, 3, q4KM);
    const loaded = await loadGguf(memFile('tiny.gguf', m.bytes));
    const c = loaded.config;
    const storage: BaseStorageOptions = { basePrecision: 'auto', fileDtype: loaded.dtype, quant: quantTypesOf(loaded.weights) };
    const rows = weightGroups(c, storage);
    expect(rows.map((r) => r.group)).toEqual(['embeddings', 'attention q', 'attention k', 'attention v', 'attention o', 'MLP gate', 'MLP up', 'MLP down', 'LM head', 'norms']);
    expect(row(rows, 'attention q').types).toEqual(['Q4_K']);
    expect(row(rows, 'attention v').types).toEqual(['Q6_K']);
    expect(row(rows, 'MLP down').types).toEqual(['Q6_K']);
    expect(row(rows, 'norms').types).toEqual(['f32']);
    const L = c.numLayers;
    // Q4_K: 144 bytes per 256 values; Q6_K: 210 bytes padded to 212 (word-aligned)
    expect(row(rows, 'attention q').gpuBytes).toBe(L * ((256 * 256) / 256) * 144);
    expect(row(rows, 'attention v').gpuBytes).toBe(L * ((128 * 256) / 256) * 212);
    expect(row(rows, 'attention q').bf16Bytes).toBe(L * 256 * 256 * 2);
    expect(row(rows, 'norms').gpuBytes).toBe(row(rows, 'norms').bf16Bytes);
    const total = rows.reduce((a, r) => a + r.gpuBytes, 0);
    expect(total).toBe(baseWeightBytes(c, resolveBasePrecision(c, storage), storage.quant));
    const gpu = await testGpu();
    const model = GpuTransformer.upload(gpu, c, loaded.weights, storage);
    try {
      expect(total).toBe(model.bytes);
    } finally {
      model.release();
    }
  });

  test('base_precision "q8_0" on an f32 model: matrices Q8_0 (bytes saved), a matrix whose rows are not whole blocks bf16, norms f32', async () => {
    // intermediate 48: down_proj's rows (48 values) are not whole 32-blocks -> kept bf16
    const c = tinyConfig({ hiddenSize: 64, numHeads: 4, numKvHeads: 2, headDim: 16, intermediateSize: 48, vocabSize: 96 });
    const storage: BaseStorageOptions = { basePrecision: 'q8_0', fileDtype: 'f32' };
    const rows = weightGroups(c, storage);
    expect(row(rows, 'MLP up').types).toEqual(['Q8_0']);
    expect(row(rows, 'MLP down').types).toEqual(['bf16']);
    expect(row(rows, 'MLP up').gpuBytes).toBe(c.numLayers * ((48 * 64) / 32) * 36);
    expect(row(rows, 'MLP up').bf16Bytes - row(rows, 'MLP up').gpuBytes).toBe(c.numLayers * 48 * 64 * 2 - c.numLayers * 96 * 36);
    expect(row(rows, 'MLP down').gpuBytes).toBe(row(rows, 'MLP down').bf16Bytes);
    const gpu = await testGpu();
    const model = GpuTransformer.upload(gpu, c, randomWeights(c, 1), storage);
    try {
      expect(rows.reduce((a, r) => a + r.gpuBytes, 0)).toBe(model.bytes);
    } finally {
      model.release();
    }
  });

  test('base_precision "nf4_dq": NF4_DQ per group at bitsandbytes\' bytes (codes, absmax codes, absmax2 per 256 blocks, offset per tensor), total = the upload', async () => {
    const c = tinyConfig({ hiddenSize: 64, numHeads: 4, numKvHeads: 2, headDim: 16, intermediateSize: 128, vocabSize: 96 });
    const rows = weightGroups(c, { basePrecision: 'nf4_dq', fileDtype: 'f32' });
    expect(row(rows, 'MLP up').types).toEqual(['NF4_DQ']);
    // up_proj (128, 64): 128 blocks: 128 * 32 code bytes, 128 absmax codes, one absmax2, the offset
    expect(row(rows, 'MLP up').gpuBytes).toBe(c.numLayers * (128 * 32 + 128 + 4 + 4));
    // plain nf4: 36 bytes per block
    expect(row(weightGroups(c, { basePrecision: 'nf4', fileDtype: 'f32' }), 'MLP up').gpuBytes).toBe(c.numLayers * 128 * 36);
    const gpu = await testGpu();
    const model = GpuTransformer.upload(gpu, c, randomWeights(c, 1), { basePrecision: 'nf4_dq', fileDtype: 'f32' });
    try {
      expect(rows.reduce((a, r) => a + r.gpuBytes, 0)).toBe(model.bytes);
    } finally {
      model.release();
    }
  });
});
