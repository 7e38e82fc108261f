// llama2.c checkpoints: stories260K loads with the numbers its README states and its tensors land under
// the right Hugging Face names; size and header errors; the q/k row permutation for rotate-half RoPE.
import { readFile } from 'node:fs/promises';
import { describe, expect, test } from 'vitest';
import { llamaParamCount } from '../../src/model/config';
import { parseLlama2cCheckpoint, permuteForHalfRope, unpermuteFromHalfRope } from '../../src/model/llama2c';
import { loadLlama2c } from '../../src/model/load';
import { loadModelFromPath, nodeFileSource } from '../../src/model/load_node';
import { expectedShapes, validateWeights } from '../../src/model/weights';
import { Rng } from '../../src/util/random';
import { memFile, STORIES_BIN, STORIES_TOK } from './tiny';

/** A llama2.c file: the header, then `floats` float32 values counting 0, 1, 2, ... (so every tensor's
 * origin in the file can be read off its values). */
function syntheticCheckpoint(header: number[], floats: number): Uint8Array {
  const bytes = new Uint8Array(28 + 4 * floats);
  const view = new DataView(bytes.buffer);
  header.forEach((v, i) => view.setInt32(4 * i, v, true));
  for (let i = 0; i < floats; i++) view.setFloat32(28 + 4 * i, i, true);
  return bytes;
}

describe('llama2.c checkpoint', () => {
  test('stories260K loads with the README numbers', async () => {
    const m = await loadModelFromPath(STORIES_BIN);
    expect(m.name).toBe('stories260K');
    expect(m.dtype).toBe('f32');
    expect(m.config).toEqual({
      architecture: 'llama2.c',
      hiddenSize: 64,
      numLayers: 5,
      numHeads: 8,
      numKvHeads: 4,
      headDim: 8,
      intermediateSize: 172,
      vocabSize: 512,
      rmsNormEps: 1e-5,
      ropeTheta: 10000,
      ropeScaling: null,
      ropeConvention: 'interleaved',
      maxPositionEmbeddings: 512,
      tieWordEmbeddings: true,
      attentionBias: false,
      bosTokenId: 1,
      eosTokenIds: [2],
    });
    validateWeights(m.config, m.weights, 'stories260K');
    expect(m.tokenizer.vocabSize).toBe(512);
    // 1,056,540 bytes = 28 header + 4 * (parameters + the two skipped RoPE tables of 512 * 4 floats)
    expect(28 + 4 * (llamaParamCount(m.config) + 512 * 8)).toBe(1056540);
    // the first float after the header is the embedding's first value; the final norm is just before the RoPE tables
    const raw = await readFile(STORIES_BIN);
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    expect(m.weights.get('model.embed_tokens.weight')!.data[0]).toBe(view.getFloat32(28, true));
    const normEnd = 1056540 - 4 * 512 * 8;
    expect(m.weights.get('model.norm.weight')!.data[63]).toBe(view.getFloat32(normEnd - 4, true));
  });

  test('tensors map to Hugging Face names in llama2.c order (w1 gate, w2 down, w3 up), untied classifier last', () => {
    // dim 4, hidden 6, 2 layers, 2 heads, 1 kv head, vocab -5 (untied), seq_len 3: HS 2, KVD 2
    const [C, H, L, V, S, KVD] = [4, 6, 2, 5, 3, 2];
    const sizes: [string, number][] = [
      ['embed', V * C], ['rms_att', L * C], ['wq', L * C * C], ['wk', L * KVD * C], ['wv', L * KVD * C], ['wo', L * C * C],
      ['rms_ffn', L * C], ['w1', L * H * C], ['w2', L * C * H], ['w3', L * H * C], ['final', C], ['freqs', S * 2], ['wcls', V * C],
    ];
    const start = new Map<string, number>();
    let total = 0;
    for (const [name, n] of sizes) {
      start.set(name, total);
      total += n;
    }
    const { config, weights } = parseLlama2cCheckpoint(syntheticCheckpoint([C, H, L, 2, 1, -V, S], total), 'tiny.bin');
    expect(config.tieWordEmbeddings).toBe(false);
    expect(config.vocabSize).toBe(V);
    validateWeights(config, weights, 'tiny.bin');
    const first = (name: string) => weights.get(name)!.data[0];
    expect(first('model.embed_tokens.weight')).toBe(start.get('embed'));
    expect(first('model.layers.1.input_layernorm.weight')).toBe(start.get('rms_att')! + C);
    expect(first('model.layers.1.self_attn.q_proj.weight')).toBe(start.get('wq')! + C * C);
    expect(first('model.layers.0.self_attn.k_proj.weight')).toBe(start.get('wk'));
    expect(first('model.layers.1.self_attn.v_proj.weight')).toBe(start.get('wv')! + KVD * C);
    expect(first('model.layers.0.self_attn.o_proj.weight')).toBe(start.get('wo'));
    expect(first('model.layers.1.post_attention_layernorm.weight')).toBe(start.get('rms_ffn')! + C);
    expect(first('model.layers.1.mlp.gate_proj.weight')).toBe(start.get('w1')! + H * C);
    expect(first('model.layers.0.mlp.down_proj.weight')).toBe(start.get('w2'));
    expect(first('model.layers.1.mlp.up_proj.weight')).toBe(start.get('w3')! + H * C);
    expect(first('model.norm.weight')).toBe(start.get('final'));
    expect(first('lm_head.weight')).toBe(start.get('wcls'));
    expect(weights.get('lm_head.weight')!.data.at(-1)).toBe(total - 1);
    for (const [name, shape] of expectedShapes(config)) expect(weights.get(name)!.shape, name).toEqual(shape);
  });

  test('a truncated or too long file is refused with both sizes', async () => {
    const raw = new Uint8Array(await readFile(STORIES_BIN));
    expect(() => parseLlama2cCheckpoint(raw.subarray(0, raw.length - 4), 'cut.bin')).toThrow(
      /cut.bin: truncated: 1056536 bytes, but header \(dim 64, .*seq_len 512\) needs exactly 1056540/,
    );
    const long = new Uint8Array(raw.length + 8);
    long.set(raw);
    expect(() => parseLlama2cCheckpoint(long, 'long.bin')).toThrow(/long.bin: too long: 1056548 bytes, .*needs exactly 1056540/);
    expect(() => parseLlama2cCheckpoint(raw.subarray(0, 20), 'tiny.bin')).toThrow(/tiny.bin: truncated llama2.c checkpoint \(20 bytes/);
  });

  test('an impossible header is refused', () => {
    expect(() => parseLlama2cCheckpoint(syntheticCheckpoint([0, 6, 2, 2, 1, 5, 3], 10), 'a.bin')).toThrow(/a.bin: header dim = 0 is invalid/);
    expect(() => parseLlama2cCheckpoint(syntheticCheckpoint([4, 6, 2, 3, 1, 5, 3], 10), 'b.bin')).toThrow(/n_heads 3 does not divide dim 4/);
    expect(() => parseLlama2cCheckpoint(syntheticCheckpoint([8, 6, 2, 4, 3, 5, 3], 10), 'c.bin')).toThrow(/n_kv_heads 3 does not divide n_heads 4/);
    expect(() => parseLlama2cCheckpoint(syntheticCheckpoint([6, 6, 2, 2, 1, 5, 3], 10), 'd.bin')).toThrow(/head size .* = 3 must be even/);
    expect(() => parseLlama2cCheckpoint(syntheticCheckpoint([4, 6, 2, 2, 1, 0, 3], 10), 'e.bin')).toThrow(/vocab_size = 0 is invalid/);
  });

  test('loadLlama2c refuses a tokenizer with a different vocab size', async () => {
    const model = await nodeFileSource(STORIES_BIN);
    const tok = new Uint8Array(await readFile(STORIES_TOK));
    const extra = new Uint8Array(tok.length + 9);
    extra.set(tok);
    extra.set([0, 0, 0, 0, 1, 0, 0, 0, 0x41], tok.length); // a 513th token "A"
    await expect(loadLlama2c(model, memFile('tok513.bin', extra))).rejects.toThrow(
      /tok513.bin: 9 bytes left after 512 tokens: the tokenizer has more tokens than the model's vocab_size 512/,
    );
    await expect(loadLlama2c(model, memFile('tok_cut.bin', tok.subarray(0, 3000)))).rejects.toThrow(/tok_cut.bin: truncated at token/);
  });
});

describe('permuteForHalfRope', () => {
  test('moves interleaved pairs to halves within each head', () => {
    // 2 heads of size 4, 1 column: rows (x0 y0 x1 y1) -> (x0 x1 y0 y1)
    const w = Float32Array.from([0, 1, 2, 3, 10, 11, 12, 13]);
    expect([...permuteForHalfRope(w, 2, 4, 1)]).toEqual([0, 2, 1, 3, 10, 12, 11, 13]);
    // rows are moved whole
    const w2 = Float32Array.from([0, 0.5, 1, 1.5, 2, 2.5, 3, 3.5]);
    expect([...permuteForHalfRope(w2, 1, 4, 2)]).toEqual([0, 0.5, 2, 2.5, 1, 1.5, 3, 3.5]);
  });

  test('unpermuteFromHalfRope is its inverse', () => {
    const rng = new Rng(1);
    const w = Float32Array.from({ length: 3 * 8 * 5 }, () => rng.normal());
    const p = permuteForHalfRope(w, 3, 8, 5);
    expect(p).not.toEqual(w);
    expect(unpermuteFromHalfRope(p, 3, 8, 5)).toEqual(w);
    expect(permuteForHalfRope(unpermuteFromHalfRope(w, 3, 8, 5), 3, 8, 5)).toEqual(w);
    expect(() => permuteForHalfRope(w, 3, 8, 4)).toThrow(/120 values, expected nHeads\*headDim\*cols = 3\*8\*4/);
  });
});
