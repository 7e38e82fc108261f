// Loading GGUF files written by the tests' independent writer: config from the metadata, weights under Hugging
// Face names equal (bit for bit) to the quantisers' values with llama's q/k permutation and Gemma's 1 + w
// undone, the tokenizer rebuilt from tokenizer.ggml.*, and every bad input refused with a message naming the
// key or tensor.
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import type { ModelConfig } from '../../src/model/config';
import { llama3RopeFactors } from '../../src/model/gguf/config';
import { loadGguf } from '../../src/model/gguf/load';
import { peekGgufMetadata, readGgufHeader } from '../../src/model/gguf/reader';
import { loadModelFiles } from '../../src/model/load';
import { loadModelFromPath } from '../../src/model/load_node';
import type { WeightMap } from '../../src/model/weights';
import { writeGguf, type KvValue } from './gguf_fixtures';
import { ggufModel, q4KM, type Arch } from './gguf_models';
import { memFile, tinyConfig, tinyTokenizerJson } from './tiny';

const LLAMA = tinyConfig({ hiddenSize: 256, numHeads: 4, numKvHeads: 2, headDim: 64, intermediateSize: 256, vocabSize: 288, ropeTheta: 500000, maxPositionEmbeddings: 256 });
const QWEN3 = tinyConfig({ hiddenSize: 64, numHeads: 4, numKvHeads: 2, headDim: 32, intermediateSize: 96, vocabSize: 288, qkNorm: true, rmsNormEps: 1e-6, ropeTheta: 1e6, maxPositionEmbeddings: 512 });
const QWEN2 = tinyConfig({ hiddenSize: 64, numHeads: 4, numKvHeads: 2, headDim: 16, intermediateSize: 96, vocabSize: 288, attentionBias: true, maxPositionEmbeddings: 512 });
const GEMMA3 = tinyConfig({
  hiddenSize: 64, numHeads: 2, numKvHeads: 1, headDim: 32, intermediateSize: 96, vocabSize: 288, numLayers: 7, qkNorm: true,
  normWeightOffset: 1, sandwichNorms: true, slidingWindow: 16, maxPositionEmbeddings: 512, ropeTheta: 1e6,
});

function expectSameWeights(got: WeightMap, want: WeightMap) {
  expect([...got.keys()].sort()).toEqual([...want.keys()].sort());
  for (const [name, t] of want) {
    const g = got.get(name)!;
    expect(g.shape, name).toEqual(t.shape);
    let bad = -1;
    for (let i = 0; i < t.data.length && bad < 0; i++) if (!Object.is(g.data[i], t.data[i])) bad = i;
    expect(bad < 0 ? 'equal' : `${name}[${bad}]: ${g.data[bad]} vs ${t.data[bad]}`).toBe('equal');
  }
}

async function load(arch: Arch, c: ModelConfig, quant: Parameters<typeof ggufModel>[3], opts: Parameters<typeof ggufModel>[4] = {}, tokenizer?: string) {
  const m = ggufModel(arch, c, 5, quant, opts);
  const loaded = await loadGguf(memFile(`tiny-${arch}.gguf`, m.bytes), tokenizer ? memFile('tokenizer.json', tokenizer) : undefined);
  return { m, loaded };
}

describe('GGUF models load as Hugging Face weights', () => {
  test('llama, Q4_K_M mix (Q4_K + Q6_K): q/k rows un-permuted, config from metadata, tokenizer from tokenizer.ggml.*', async () => {
    const { m, loaded } = await load('llama', LLAMA, q4KM);
    expectSameWeights(loaded.weights, m.expected);
    const c = loaded.config;
    expect(c).toMatchObject({
      architecture: 'LlamaForCausalLM', modelType: 'llama', hiddenSize: 256, numLayers: 2, numHeads: 4, numKvHeads: 2, headDim: 64,
      intermediateSize: 256, vocabSize: 288, ropeTheta: 500000, maxPositionEmbeddings: 256, tieWordEmbeddings: true, ropeConvention: 'half',
      attentionBias: false, ropeScaling: null,
    });
    expect(c.rmsNormEps).toBeCloseTo(1e-5, 10);
    expect(loaded.dtype).toBe('f32+q4_k+q6_k');
    expect(loaded.name).toBe('tiny-llama');
    const tok = loaded.tokenizer;
    const ids = tok.encode(' the world', { addBos: false });
    expect(ids.map((i) => tok.tokenText(i))).toEqual([' the', ' world']);
    expect(tok.decode(tok.encode('<|im_start|>user\nhi<|im_end|>', { addBos: false }))).toBe('user\nhi');
    expect(tok.eosIds).toContain(258 + 10); // <|im_end|>: 256 bytes, 10 merges, <|endoftext|>, <|im_start|>
    expect(tok.bosId).toBe(null); // add_bos_token false
    expect(loaded.chatTemplate).toContain('<|im_start|>');
  });

  test('llama with an untied output and Llama 3 rope_freqs: lm_head and llama3 RoPE scaling', async () => {
    const c = { ...LLAMA, tieWordEmbeddings: false };
    const freqs = llama3RopeFactors(64, 500000, { factor: 32, low: 1, high: 4, orig: 8192 });
    const { m, loaded } = await load('llama', c, () => 'F16', { ropeFreqs: freqs });
    expectSameWeights(loaded.weights, m.expected);
    expect(loaded.weights.has('lm_head.weight')).toBe(true);
    expect(loaded.config.ropeScaling).toEqual({ type: 'llama3', factor: 32, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositionEmbeddings: 8192 });
    freqs[5] *= 1.5;
    await expect(load('llama', c, () => 'F16', { ropeFreqs: freqs })).rejects.toThrow(/tensor rope_freqs.weight does not match Llama 3's RoPE scaling/);
  });

  test('qwen3, Q8_0: q/k norms, head_dim from attention.key_length, no permutation', async () => {
    const { m, loaded } = await load('qwen3', QWEN3, (_, s) => (s.length === 1 ? 'F32' : 'Q8_0'));
    expectSameWeights(loaded.weights, m.expected);
    expect(loaded.config).toMatchObject({ modelType: 'qwen3', qkNorm: true, headDim: 32, numHeads: 4, hiddenSize: 64 });
    expect(loaded.dtype).toBe('f32+q8_0');
  });

  test('qwen2, Q4_0 / Q4_1 / Q5_0 / Q5_1 / BF16 with F32 q/k/v biases', async () => {
    const types = ['Q4_0', 'Q4_1', 'Q5_0', 'Q5_1', 'BF16'] as const;
    let i = 0;
    const { m, loaded } = await load('qwen2', QWEN2, (_, s) => (s.length === 1 ? 'F32' : types[i++ % types.length]));
    expectSameWeights(loaded.weights, m.expected);
    expect(loaded.config).toMatchObject({ modelType: 'qwen2', attentionBias: true });
    expect(loaded.weights.has('model.layers.1.self_attn.k_proj.bias')).toBe(true);
  });

  test('gemma3, F16: norms stored as 1 + w come back as w; every 6th layer full; a tokenizer.json beside the file wins', async () => {
    const { m, loaded } = await load('gemma3', GEMMA3, (_, s) => (s.length === 1 ? 'F32' : 'F16'), {}, JSON.stringify(tinyTokenizerJson()));
    expectSameWeights(loaded.weights, m.expected);
    const c = loaded.config;
    expect(c).toMatchObject({
      architecture: 'Gemma3ForCausalLM', modelType: 'gemma3_text', normWeightOffset: 1, sandwichNorms: true, hiddenAct: 'gelu_tanh',
      slidingWindow: 16, ropeLocalTheta: 10000, ropeTheta: 1e6, attentionScale: 32 ** -0.5, embedScale: Math.fround(8),
    });
    expect(c.layerTypes).toEqual(['sliding_attention', 'sliding_attention', 'sliding_attention', 'sliding_attention', 'sliding_attention', 'full_attention', 'sliding_attention']);
    expect(loaded.tokenizer.vocabSize).toBe(20); // tinyTokenizerJson's, not the file's 288
  });

  test('Q5_K weights load too', async () => {
    const { m, loaded } = await load('qwen3', { ...QWEN3, hiddenSize: 256, headDim: 64, intermediateSize: 256 }, (_, s) => (s.length === 1 ? 'F32' : 'Q5_K'));
    expectSameWeights(loaded.weights, m.expected);
  });

  test('through loadModelFiles and loadModelFromPath (--model FILE.gguf, with a tokenizer.json beside it)', async () => {
    const m = ggufModel('qwen3', QWEN3, 9, () => 'F32');
    const fromFiles = await loadModelFiles([memFile('dir/x.gguf', m.bytes)]);
    expectSameWeights(fromFiles.weights, m.expected);
    const dir = await mkdtemp(join(tmpdir(), 'gguf-'));
    await writeFile(join(dir, 'model.gguf'), m.bytes);
    expect((await loadModelFromPath(join(dir, 'model.gguf'))).tokenizer.vocabSize).toBe(288);
    await writeFile(join(dir, 'tokenizer.json'), JSON.stringify(tinyTokenizerJson()));
    expect((await loadModelFromPath(join(dir, 'model.gguf'))).tokenizer.vocabSize).toBe(20);
  });
});

describe('GGUF bad inputs: clear messages naming the key or tensor', () => {
  const good = () => ggufModel('qwen3', QWEN3, 3, (_, s) => (s.length === 1 ? 'F32' : 'Q8_0'));
  const loadBytes = (b: Uint8Array) => loadGguf(memFile('bad.gguf', b));
  const header = (version: number, nTensors: bigint, nKv: bigint) => {
    const b = new Uint8Array(24);
    const dv = new DataView(b.buffer);
    b.set(new TextEncoder().encode('GGUF'));
    dv.setUint32(4, version, true);
    dv.setBigUint64(8, nTensors, true);
    dv.setBigUint64(16, nKv, true);
    return b;
  };

  test('not GGUF, unknown version, big-endian', async () => {
    await expect(loadBytes(new TextEncoder().encode('PK\x03\x04....'))).rejects.toThrow(/bad.gguf: not a GGUF file/);
    await expect(loadBytes(header(4, 0n, 0n))).rejects.toThrow(/GGUF version 4 is not supported/);
    await expect(loadBytes(header(0x03000000, 0n, 0n))).rejects.toThrow(/big-endian/);
  });

  test('counts are bounded before allocation: 2^40 tensors, 2^40 keys, a huge array, a huge string', async () => {
    await expect(loadBytes(header(3, 2n ** 40n, 0n))).rejects.toThrow(/claims 1099511627776 tensors/);
    await expect(loadBytes(header(3, 0n, 2n ** 40n))).rejects.toThrow(/claims 1099511627776 metadata keys/);
    const arr = writeGguf({ kv: [['tokenizer.ggml.tokens', { t: 'array', of: 'string', v: ['a'] }]], tensors: [] });
    new DataView(arr.buffer).setBigUint64(24 + 8 + 'tokenizer.ggml.tokens'.length + 4 + 4, 2n ** 40n, true);
    await expect(loadBytes(arr)).rejects.toThrow(/metadata tokenizer.ggml.tokens claims 1099511627776 string elements/);
    const str = writeGguf({ kv: [['general.name', { t: 'string', v: 'x' }]], tensors: [] });
    new DataView(str.buffer).setBigUint64(24 + 8 + 'general.name'.length + 4, 2n ** 40n, true);
    await expect(loadBytes(str)).rejects.toThrow(/metadata general.name claims 1099511627776 bytes/);
  });

  test('a truncated file names what it cut: the metadata, or a tensor', async () => {
    const b = good().bytes;
    await expect(loadBytes(b.subarray(0, 100))).rejects.toThrow(/truncated GGUF file/);
    await expect(loadBytes(b.subarray(0, b.length - 40))).rejects.toThrow(/truncated GGUF file: tensor output_norm\.weight \(F32 \[64\], 256 bytes at data offset \d+\) runs past the end of the file/);
  });

  test("a tensor whose byte size does not match its type and shape", async () => {
    const m = good();
    const t = m.tensors.find((x) => x.name === 'blk.0.attn_k.weight')!;
    t.type = 0; // claims F32, but holds Q8_0 bytes: the next tensor starts too early
    await expect(loadBytes(writeGguf({ kv: m.kv, tensors: m.tensors }))).rejects.toThrow(/tensor blk\.0\.attn_k\.weight (overlaps|.*the byte size does not match)|tensor blk\.0\.attn_v\.weight overlaps tensor blk\.0\.attn_k\.weight/);
    t.type = 8;
    t.dims = [48, 64]; // rows not whole Q8_0 blocks
    await expect(loadBytes(writeGguf({ kv: m.kv, tensors: m.tensors }))).rejects.toThrow(/tensor blk\.0\.attn_k\.weight \(Q8_0\) has rows of 48 values, not a multiple of its block size 32/);
  });

  test('unsupported quantisation types are refused with the supported list', async () => {
    for (const [id, name] of [[10, 'Q2_K'], [11, 'Q3_K'], [16, 'IQ2_XXS'], [23, 'IQ4_XS'], [99, 'unknown type 99']] as const) {
      const m = good();
      m.tensors[1].type = id;
      await expect(loadBytes(writeGguf({ kv: m.kv, tensors: m.tensors }))).rejects.toThrow(
        new RegExp(`tensor ${m.tensors[1].name.replace(/\./g, '\\.')} has type ${name}, which is not supported \\(supported: F32, F16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q4_K, Q5_K, Q6_K, BF16\\)`),
      );
    }
  });

  test('an architecture we do not run, an adapter, a missing key', async () => {
    const m = good();
    const kv = (over: [string, KvValue][], drop: string[] = []) => [...m.kv.filter(([k]) => !drop.includes(k) && !over.some(([o]) => o === k)), ...over];
    await expect(loadBytes(writeGguf({ kv: kv([['general.architecture', { t: 'string', v: 'mamba' }]]), tensors: m.tensors }))).rejects.toThrow(
      /metadata general.architecture is "mamba", which is not supported \(supported: llama, qwen2, qwen3, gemma3\)/,
    );
    await expect(loadBytes(writeGguf({ kv: kv([['general.type', { t: 'string', v: 'adapter' }]]), tensors: m.tensors }))).rejects.toThrow(/general.type is "adapter"/);
    await expect(loadBytes(writeGguf({ kv: kv([], ['qwen3.block_count']), tensors: m.tensors }))).rejects.toThrow(/metadata qwen3.block_count is missing/);
  });

  test('no tokenizer in the file and no tokenizer.json; a SentencePiece tokenizer without its pieces', async () => {
    const noTok = ggufModel('qwen3', QWEN3, 3, () => 'F32', { tokenizer: false });
    await expect(loadBytes(noTok.bytes)).rejects.toThrow(/metadata tokenizer.ggml.model is missing: the file has no tokenizer; put the model's tokenizer.json beside it/);
    const spm = ggufModel('qwen3', QWEN3, 3, () => 'F32', { tokenizer: false, extraKv: [['tokenizer.ggml.model', { t: 'string', v: 'llama' }]] });
    await expect(loadBytes(spm.bytes)).rejects.toThrow(/metadata tokenizer\.ggml\.tokens is missing/);
    // and with the tokenizer.json given, it loads
    await expect(loadGguf(memFile('x.gguf', spm.bytes), memFile('tokenizer.json', JSON.stringify(tinyTokenizerJson())))).resolves.toBeTruthy();
  });

  test('a Gemma 3 file with its SentencePiece tokenizer (tokenizer.ggml.model "llama") loads without a tokenizer.json', async () => {
    const c = tinyConfig({
      hiddenSize: 64, numHeads: 2, numKvHeads: 1, headDim: 32, intermediateSize: 96, vocabSize: 288, qkNorm: true, normWeightOffset: 1,
      sandwichNorms: true, slidingWindow: 4, maxPositionEmbeddings: 64, ropeTheta: 1e6,
    });
    const bytePieces = Array.from({ length: 256 }, (_, i) => `<0x${i.toString(16).toUpperCase().padStart(2, '0')}>`);
    const pieces = ['▁', 'h', 'e', 'l', 'o', 'he', 'll', 'hell', 'hello', '▁hello'];
    const tokens = ['<pad>', '<eos>', '<bos>', '<unk>', '<start_of_turn>', '<end_of_turn>', ...bytePieces, ...pieces];
    while (tokens.length < 288) tokens.push(`<unused${tokens.length}>`);
    const types = tokens.map((t, i) => (i === 3 ? 2 : i < 6 ? 3 : t.startsWith('<0x') ? 6 : t.startsWith('<unused') ? 4 : 1));
    const scores = tokens.map((t) => (pieces.includes(t) ? -pieces.indexOf(t) : 0));
    const m = ggufModel('gemma3', c, 7, () => 'F32', {
      tokenizer: false,
      extraKv: [
        ['tokenizer.ggml.model', { t: 'string', v: 'llama' }],
        ['tokenizer.ggml.tokens', { t: 'array', of: 'string', v: tokens }],
        ['tokenizer.ggml.scores', { t: 'array', of: 'f32', v: scores }],
        ['tokenizer.ggml.token_type', { t: 'array', of: 'i32', v: types }],
        ['tokenizer.ggml.bos_token_id', { t: 'u32', v: 2 }],
        ['tokenizer.ggml.eos_token_id', { t: 'u32', v: 1 }],
        ['tokenizer.ggml.add_space_prefix', { t: 'bool', v: false }],
        ['tokenizer.chat_template', { t: 'string', v: '{% for m in messages %}<start_of_turn>{{ m.role }}\n{{ m.content }}<end_of_turn>\n{% endfor %}' }],
      ],
    });
    const loaded = await loadBytes(m.bytes);
    const t = loaded.tokenizer;
    expect(t.encode('hello hé')).toEqual([2, tokens.indexOf('hello'), tokens.indexOf('▁'), tokens.indexOf('h'), tokens.indexOf('<0xC3>'), tokens.indexOf('<0xA9>')]);
    expect(t.decode(t.encode('hello hé', { addBos: false }))).toBe('hello hé');
    expect(t.encode('<start_of_turn>hello', { addBos: false })).toEqual([4, tokens.indexOf('hello')]);
    expect(loaded.config.bosTokenId).toBe(2);
    expect(loaded.config.eosTokenIds).toEqual(expect.arrayContaining([1, 5])); // EOS and the template's <end_of_turn>
    expect(loaded.specialTokens).toMatchObject({ bos_token: '<bos>', eos_token: '<eos>' });
  });

  test('a tensor the model has no place for, and a missing one', async () => {
    const m = good();
    m.tensors.push({ name: 'blk.0.ffn_gate_exps.weight', dims: [32], type: 0, bytes: new Uint8Array(128) });
    await expect(loadBytes(writeGguf({ kv: m.kv, tensors: m.tensors }))).rejects.toThrow(/tensor blk\.0\.ffn_gate_exps\.weight \(F32 \[32\]\) has no place in a qwen3 model/);
    const m2 = good();
    await expect(loadBytes(writeGguf({ kv: m2.kv, tensors: m2.tensors.filter((t) => t.name !== 'blk.1.attn_q_norm.weight') }))).rejects.toThrow(
      /missing tensor model\.layers\.1\.self_attn\.q_norm\.weight/,
    );
  });

  test('the reader alone: one metadata value from the first bytes (peekGgufMetadata)', () => {
    const bytes = good().bytes;
    expect(peekGgufMetadata(bytes.subarray(0, 4096), 'x', 'general.architecture')).toBe('qwen3');
    expect(peekGgufMetadata(bytes.subarray(0, 30), 'x', 'general.architecture')).toBeUndefined(); // the bytes end first
    expect(peekGgufMetadata(bytes, 'x', 'no.such.key')).toBeUndefined();
    expect(() => peekGgufMetadata(new TextEncoder().encode('<!DOCTYPE html><html>'), 'x', 'general.architecture')).toThrow(/not a GGUF file/);
  });

  test('the reader alone: header facts', () => {
    const h = readGgufHeader(good().bytes, 'x');
    expect(h.version).toBe(3);
    expect(h.alignment).toBe(32);
    expect(h.tensors.find((t) => t.name === 'token_embd.weight')).toMatchObject({ dims: [64, 288], count: 64 * 288, byteSize: (64 * 288 / 32) * 34 });
  });
});
