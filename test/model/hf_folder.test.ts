// Hugging Face folders: tiny random models written with writeSafetensors (f32), an f16/bf16 variant
// encoded here, a sharded variant with model.safetensors.index.json, a generated tokenizer.json; the
// folder errors; loading from a path on disk; format detection.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import type { ModelConfig } from '../../src/model/config';
import { loadHfFolder, loadModelFiles, type FileSource } from '../../src/model/load';
import { loadModelFromPath, nodeFileSource } from '../../src/model/load_node';
import { writeSafetensors } from '../../src/model/safetensors';
import { expectedShapes, type WeightMap } from '../../src/model/weights';
import { transformerForward } from '../../src/reference/transformer';
import { Rng } from '../../src/util/random';
import { memFile, randomTokens, STORIES_BIN, STORIES_TOK, tinyConfig, tinyTokenizerJson } from './tiny';

const QWEN_JSON = {
  architectures: ['Qwen2ForCausalLM'], model_type: 'qwen2', hidden_size: 8, intermediate_size: 12, num_hidden_layers: 2,
  num_attention_heads: 2, num_key_value_heads: 1, vocab_size: 24, rms_norm_eps: 1e-6, rope_theta: 10000,
  max_position_embeddings: 64, tie_word_embeddings: true, hidden_act: 'silu', bos_token_id: 0, eos_token_id: 1,
};
const LLAMA_JSON = { ...QWEN_JSON, architectures: ['LlamaForCausalLM'], model_type: 'llama', tie_word_embeddings: false };

/** Weights whose values are multiples of 1/64 in [-2, 2]: exact in f32, f16 and bf16. */
function exactWeights(c: ModelConfig, seed: number): WeightMap {
  const rng = new Rng(seed);
  const w: WeightMap = new Map();
  for (const [name, shape] of expectedShapes(c)) {
    const n = shape.reduce((a, b) => a * b, 1);
    w.set(name, { shape, data: Float32Array.from({ length: n }, () => (rng.int(257) - 128) / 64) });
  }
  return w;
}

/** f32 -> IEEE half bits, for values exactly representable as normal halves (or zero). */
function f16Bits(x: number): number {
  if (x === 0) return 0;
  const sign = x < 0 ? 0x8000 : 0;
  const a = Math.abs(x);
  const e = Math.floor(Math.log2(a));
  const frac = (a / 2 ** e - 1) * 1024;
  if (!Number.isInteger(frac) || e < -14 || e > 15) throw new Error(`${x} is not an exact normal f16`);
  return sign | ((e + 15) << 10) | frac;
}

/** bf16 bits: the top half of the f32 bits (exact for our values). */
function bf16Bits(x: number): number {
  const bits = new Uint32Array(Float32Array.of(x).buffer)[0];
  if (bits & 0xffff) throw new Error(`${x} is not exact in bf16`);
  return bits >>> 16;
}

/** A safetensors file with the given per-tensor dtype, encoded here (the writer only writes F32). */
function halfSafetensors(w: WeightMap, dtypeOf: (name: string) => 'F16' | 'BF16'): Uint8Array {
  const header: Record<string, unknown> = {};
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const [name, t] of w) {
    const dtype = dtypeOf(name);
    const bits = Uint16Array.from(t.data, (x) => (dtype === 'F16' ? f16Bits(x) : bf16Bits(x)));
    header[name] = { dtype, shape: t.shape, data_offsets: [offset, offset + bits.byteLength] };
    chunks.push(new Uint8Array(bits.buffer));
    offset += bits.byteLength;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + offset);
  new DataView(out.buffer).setUint32(0, json.length, true);
  out.set(json, 8);
  let pos = 8 + json.length;
  for (const c of chunks) {
    out.set(c, pos);
    pos += c.length;
  }
  return out;
}

function folder(dir: string, configJson: unknown, weightFiles: FileSource[], extra: FileSource[] = []): FileSource[] {
  return [
    memFile(`${dir}/config.json`, JSON.stringify(configJson)),
    memFile(`${dir}/tokenizer.json`, JSON.stringify(tinyTokenizerJson())),
    memFile(`${dir}/tokenizer_config.json`, JSON.stringify({ bos_token: '<s>', eos_token: '</s>' })),
    ...weightFiles,
    ...extra,
  ];
}

function expectSameWeights(got: WeightMap, want: WeightMap): void {
  expect([...got.keys()].sort()).toEqual([...want.keys()].sort());
  for (const [name, t] of want) {
    expect(got.get(name)!.shape, name).toEqual(t.shape);
    expect(got.get(name)!.data, name).toEqual(t.data);
  }
}

const qwenConfig = (): ModelConfig => tinyConfig({
  architecture: 'Qwen2ForCausalLM', vocabSize: 24, attentionBias: true, rmsNormEps: 1e-6, bosTokenId: 0, eosTokenIds: [1],
});

describe('Hugging Face folder', () => {
  test('f32 model.safetensors (Qwen2: biases, tied) loads and runs like the weights it was written from', async () => {
    const c = qwenConfig();
    const w = exactWeights(c, 1);
    // checkpoints may carry a copy of the tied head and RoPE buffers: both are ignored
    const onDisk = new Map(w);
    onDisk.set('lm_head.weight', w.get('model.embed_tokens.weight')!);
    onDisk.set('model.layers.0.self_attn.rotary_emb.inv_freq', { shape: [2], data: Float32Array.of(1, 0.01) });
    const files = folder('tiny-qwen', QWEN_JSON, [memFile('tiny-qwen/model.safetensors', writeSafetensors(onDisk, { format: 'pt' }))], [
      memFile('tiny-qwen/generation_config.json', JSON.stringify({ eos_token_id: [1, 19], temperature: 0.7 })),
    ]);
    const m = await loadHfFolder(files);
    expect(m.name).toBe('tiny-qwen');
    expect(m.dtype).toBe('f32');
    expect(m.config).toEqual({ ...c, eosTokenIds: [1, 19], modelType: 'qwen2' }); // generation_config's EOS list wins
    expect(m.generationConfig).toEqual({ eos_token_id: [1, 19], temperature: 0.7 });
    expectSameWeights(m.weights, w);
    expect(m.tokenizer.encode('hello world')).toEqual([0, 14, 18]);
    expect(m.tokenizer.decode([14, 18])).toBe('hello world');
    const tokens = randomTokens(6, 24, 2);
    expect(transformerForward(m.config, m.weights, tokens, 1, 6).logits).toEqual(transformerForward(c, w, tokens, 1, 6).logits);
  });

  test('f16 and bf16 tensors (mixed in one file) decode exactly', async () => {
    const c = tinyConfig({ vocabSize: 24, tieWordEmbeddings: false, rmsNormEps: 1e-6, bosTokenId: 0, eosTokenIds: [1] });
    const w = exactWeights(c, 3);
    const bytes = halfSafetensors(w, (name) => (name.includes('mlp') ? 'F16' : 'BF16'));
    const m = await loadHfFolder(folder('tiny-llama', LLAMA_JSON, [memFile('tiny-llama/model.safetensors', bytes)]));
    expect(m.dtype).toBe('bf16+f16');
    expect(m.config.architecture).toBe('LlamaForCausalLM');
    expectSameWeights(m.weights, w);
    const allBf16 = await loadHfFolder(folder('b', LLAMA_JSON, [memFile('b/model.safetensors', halfSafetensors(w, () => 'BF16'))]));
    expect(allBf16.dtype).toBe('bf16');
    expectSameWeights(allBf16.weights, w);
  });

  test('sharded: model.safetensors.index.json and two shards', async () => {
    const c = qwenConfig();
    const w = exactWeights(c, 4);
    const shard1 = new Map([...w].filter(([n]) => !n.startsWith('model.layers.1.')));
    const shard2 = new Map([...w].filter(([n]) => n.startsWith('model.layers.1.')));
    const names = ['model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors'];
    const weightMap: Record<string, string> = {};
    for (const n of shard1.keys()) weightMap[n] = names[0];
    for (const n of shard2.keys()) weightMap[n] = names[1];
    const index = memFile('s/model.safetensors.index.json', JSON.stringify({ metadata: { total_size: 0 }, weight_map: weightMap }));
    const shardFiles = [memFile(`s/${names[0]}`, writeSafetensors(shard1)), memFile(`s/${names[1]}`, writeSafetensors(shard2))];
    const m = await loadHfFolder(folder('s', QWEN_JSON, [index, ...shardFiles]));
    expectSameWeights(m.weights, w);

    await expect(loadHfFolder(folder('s', QWEN_JSON, [index, shardFiles[0]]))).rejects.toThrow(
      /model.safetensors.index.json: shard model-00002-of-00002.safetensors \(holding model.layers.1.\S+\) is missing/,
    );
    const misplaced = { ...weightMap, 'model.norm.weight': names[1] };
    const badIndex = memFile('s/model.safetensors.index.json', JSON.stringify({ weight_map: misplaced }));
    await expect(loadHfFolder(folder('s', QWEN_JSON, [badIndex, ...shardFiles]))).rejects.toThrow(
      /s\/model-00002-of-00002.safetensors: tensor model.norm.weight is missing, though model.safetensors.index.json places it in this file/,
    );
    const noMap = memFile('s/model.safetensors.index.json', JSON.stringify({ metadata: {} }));
    await expect(loadHfFolder(folder('s', QWEN_JSON, [noMap, ...shardFiles]))).rejects.toThrow(/weight_map is missing/);
  });

  test('missing files, wrong tensors and a mismatched tokenizer are refused by name', async () => {
    const c = qwenConfig();
    const w = exactWeights(c, 5);
    const weights = memFile('d/model.safetensors', writeSafetensors(w));
    const all = folder('d', QWEN_JSON, [weights]);
    const without = (name: string) => all.filter((f) => !f.name.endsWith(`/${name}`));
    await expect(loadHfFolder(without('config.json'))).rejects.toThrow(/config.json is missing \(the model configuration\); files given: model.safetensors, tokenizer.json, tokenizer_config.json/);
    await expect(loadHfFolder(without('tokenizer.json'))).rejects.toThrow(/tokenizer.json is missing \(the tokenizer\)/);
    await expect(loadHfFolder([...without('model.safetensors'), memFile('d/pytorch_model.bin', 'x')])).rejects.toThrow(
      /model.safetensors \(or model.safetensors.index.json and its shards\) is missing: PyTorch .bin checkpoints are not supported/,
    );
    const extra = new Map(w);
    extra.set('model.layers.0.self_attn.o_proj.bias', { shape: [8], data: new Float32Array(8) });
    await expect(loadHfFolder(folder('d', QWEN_JSON, [memFile('d/model.safetensors', writeSafetensors(extra))]))).rejects.toThrow(
      /d\/model.safetensors: unexpected tensor model.layers.0.self_attn.o_proj.bias \[8\]/,
    );
    const misshapen = new Map(w);
    misshapen.set('model.layers.1.self_attn.q_proj.bias', { shape: [4], data: new Float32Array(4) });
    await expect(loadHfFolder(folder('d', QWEN_JSON, [memFile('d/model.safetensors', writeSafetensors(misshapen))]))).rejects.toThrow(
      /tensor model.layers.1.self_attn.q_proj.bias has shape \[4\], expected \[8\]/,
    );
    await expect(loadHfFolder(folder('d', { ...QWEN_JSON, hidden_size: undefined }, [weights]))).rejects.toThrow(
      /d\/config.json: hidden_size is missing/,
    );
    await expect(loadHfFolder([memFile('d/config.json', '{"model_type": '), ...without('config.json')])).rejects.toThrow(/d\/config.json: invalid JSON/);
    // a 20-token tokenizer cannot serve a 16-token model
    const small = { ...QWEN_JSON, vocab_size: 16 };
    const smallW = exactWeights({ ...c, vocabSize: 16 }, 6);
    await expect(loadHfFolder(folder('d', small, [memFile('d/model.safetensors', writeSafetensors(smallW))]))).rejects.toThrow(
      /the tokenizer has 20 tokens but the model's vocab_size is 16/,
    );
  });

  test('loadModelFromPath reads a folder on disk; loadModelFiles tells the formats apart', async () => {
    const c = qwenConfig();
    const w = exactWeights(c, 7);
    const dir = await mkdtemp(join(tmpdir(), 'hf-folder-'));
    try {
      await writeFile(join(dir, 'config.json'), JSON.stringify(QWEN_JSON));
      await writeFile(join(dir, 'tokenizer.json'), JSON.stringify(tinyTokenizerJson()));
      await writeFile(join(dir, 'model.safetensors'), writeSafetensors(w));
      const m = await loadModelFromPath(dir);
      expectSameWeights(m.weights, w);
      expect(m.tokenizer.bosId).toBe(0); // from config.json's bos_token_id: no tokenizer_config.json here
      const viaConfig = await loadModelFromPath(join(dir, 'config.json'));
      expect(viaConfig.config).toEqual(m.config);
      await expect(loadModelFromPath(join(dir, 'nothing-here'))).rejects.toThrow(/nothing-here: no such file or folder/);
    } finally {
      await rm(dir, { recursive: true });
    }
    const hf = await loadModelFiles(folder('x', QWEN_JSON, [memFile('x/model.safetensors', writeSafetensors(w))]));
    expect(hf.config.architecture).toBe('Qwen2ForCausalLM');
    const l2c = await loadModelFiles([await nodeFileSource(STORIES_TOK), await nodeFileSource(STORIES_BIN)]);
    expect(l2c.name).toBe('stories260K');
    expect(l2c.config.architecture).toBe('llama2.c');
    await expect(loadModelFiles([memFile('a.txt', 'x')])).rejects.toThrow(/cannot tell the model format from these files \(a.txt\)/);
  });
});
