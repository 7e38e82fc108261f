// base_precision "q8_0" / "q4_k" / "nf4" / "nf4_dq": quantisation at load of f32 / 16-bit models
// (src/ops/ggml_quantize.ts, src/ops/nf4_quantize.ts), the blocks then run by the quantised kernels GGUF models use.
// The ggml quantiser is checked against the tests' own ggml reference quantiser (test/model/gguf_fixtures.ts), a whole random model's GPU log-probs against the CPU
// reference on the dequantised weights, and the error it costs on the real stories260K.
import { describe, expect, test } from 'vitest';
import { loadModelFromPath } from '../../src/model/load_node';
import { completionLogprobs } from '../../src/model/logprobs';
import { loadQuantPlan, loadQuantSummary } from '../../src/model/quant_storage';
import { GpuTransformer } from '../../src/model/transformer';
import { resolveBasePrecision, type BasePrecision } from '../../src/model/weight_storage';
import type { WeightMap } from '../../src/model/weights';
import { dequantWords } from '../../src/ops/ggml_dequant';
import { quantizeMatrix } from '../../src/ops/ggml_quantize';
import { dequantizeAbsmax, dequantizeNf4, doubleQuantizeAbsmax, nf4Words, quantizeNf4 } from '../../src/ops/nf4_quantize';
import { ggmlType, quantGpuBytes, repackBlocks } from '../../src/ops/ggml_types';
import { transformerBackward, transformerForward } from '../../src/reference/transformer';
import { headChunkColumns, headLogprobs, headLogprobsBackward } from '../../src/model/lm_head';
import { LoraSet } from '../../src/model/lora';
import { Rng, randn } from '../../src/util/random';
import { testGpu } from '../gpu';
import { quantK45, quantQ8_0 } from './gguf_fixtures';
import { ALL_TARGETS, STORIES_BIN, expectClose, randomWeights, randomizeLora, roundedWeights, tinyConfig } from './tiny';

/** rows of mixed character: gaussian at several scales, an all-zero block, one outlier, exact ties at .5 steps */
function randomRows(rows: number, cols: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  const x = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    const scale = [1e-3, 0.05, 1, 30][r % 4];
    for (let i = 0; i < cols; i++) x[r * cols + i] = scale * rng.normal();
  }
  x.fill(0, 0, 32); // a zero block: d = 0
  x[cols + 5] = 500; // an outlier dominating its block
  for (let i = 0; i < 32; i++) x[2 * cols + i] = (i - 16) * 0.5; // amax 8: values on and between the grid
  return x;
}

describe('quantisation at load: the host quantiser', () => {
  test('Q8_0 matches the reference quantize_row_q8_0_ref bit for bit and stays within half a step', () => {
    const [R, K] = [9, 96];
    const x = randomRows(R, K, 1);
    const words = quantizeMatrix(x, R, K, 'Q8_0');
    const ref = quantQ8_0(x);
    expect(words).toEqual(repackBlocks(ggmlType('Q8_0'), ref.bytes, 0, R * K));
    const y = dequantWords(words, 'Q8_0', R, K);
    expect(y).toEqual(ref.values);
    for (let b = 0; b < (R * K) / 32; b++) {
      let amax = 0;
      for (let j = 0; j < 32; j++) amax = Math.max(amax, Math.abs(x[b * 32 + j]));
      // |err| <= d/2 with d = amax/127, plus d's rounding to f16 (relative 2^-11, or half of f16's subnormal
      // step 2^-24 for tiny blocks) times |q| <= 127
      const bound = (amax / 127) * (0.5 + 127 * 2 ** -11) + 127 * 2 ** -25;
      for (let j = 0; j < 32; j++) expect(Math.abs(y[b * 32 + j] - x[b * 32 + j])).toBeLessThanOrEqual(bound);
    }
  });

  test('Q4_K (quantize_row_q4_K_ref with its make_qkx2_quants search) is no worse than a plain min/max encoder', () => {
    const [R, K] = [8, 512];
    const x = randomRows(R, K, 2);
    const y = dequantWords(quantizeMatrix(x, R, K, 'Q4_K'), 'Q4_K', R, K);
    const plain = quantK45(x, 4).values; // the tests' simple Q4_K encoder (min/max scales, no search)
    for (let r = 0; r < R; r++) {
      let e = 0;
      let ep = 0;
      let rms = 0;
      for (let i = r * K; i < (r + 1) * K; i++) {
        e += (y[i] - x[i]) ** 2;
        ep += (plain[i] - x[i]) ** 2;
        rms += x[i] ** 2;
      }
      // 16 levels over a sub-block's range: RMS error ~ range/15/sqrt(12), about 10% of a gaussian row's RMS
      expect(Math.sqrt(e / rms), `row ${r}`).toBeLessThan(0.12);
      expect(e, `row ${r}`).toBeLessThanOrEqual(ep * 1.0001);
    }
  });

  test('rows that are not whole blocks are refused', () => {
    expect(() => quantizeMatrix(new Float32Array(40), 1, 40, 'Q8_0')).toThrow(/not whole 32-value blocks/);
  });
});

describe('quantisation at load: whole models', () => {
  test('a q8_0 random-weight model: GPU log-probs equal the CPU reference on the dequantised weights', async () => {
    const gpu = await testGpu();
    // down_proj's rows hold 80 values (not whole 32-value blocks): it stays bf16, named in the load summary
    const c = tinyConfig({ hiddenSize: 64, numHeads: 4, numKvHeads: 2, headDim: 16, intermediateSize: 80, vocabSize: 96, tieWordEmbeddings: false });
    const w = randomWeights(c, 5, 0.3);
    const plan = loadQuantPlan(c, 'q8_0')!;
    expect(plan.kept16).toEqual(['model.layers.0.mlp.down_proj.weight', 'model.layers.1.mlp.down_proj.weight']);
    expect(plan.quant.has('model.embed_tokens.weight') && plan.quant.has('lm_head.weight')).toBe(true);
    expect(loadQuantSummary(c, 'q8_0')).toMatch(/14 matrices quantised to Q8_0 at load; 2 kept in bf16 \(rows not a multiple of 32 values\)/);
    expect(resolveBasePrecision(c, { basePrecision: 'q8_0' })).toBe('bf16');

    const model = GpuTransformer.upload(gpu, c, w, { basePrecision: 'q8_0' });
    expect([...model.quant.keys()].sort()).toEqual([...plan.quant.keys()].sort());
    expect(model.weightFormat('model.layers.0.mlp.down_proj.weight')).toBe('bf16');
    const expected: WeightMap = roundedWeights(w, 'bf16');
    for (const name of plan.quant.keys()) {
      const t = w.get(name)!;
      expected.set(name, { shape: t.shape, data: dequantWords(quantizeMatrix(t.data, t.shape[0], t.shape[1], 'Q8_0'), 'Q8_0', t.shape[0], t.shape[1]) });
    }
    const rng = new Rng(9);
    const prompt = Array.from({ length: 5 }, () => rng.int(c.vocabSize));
    const completion = Array.from({ length: 7 }, () => rng.int(c.vocabSize));
    const got = await completionLogprobs(model, [{ prompt, completion }], null, 1);
    const seq = [...prompt, ...completion];
    const ref = transformerForward(c, expected, seq, 1, seq.length, null);
    const V = c.vocabSize;
    const want = completion.map((id, j) => {
      const row = ref.logits.subarray((prompt.length + j - 1) * V, (prompt.length + j) * V);
      const mx = Math.max(...row);
      return row[id] - (mx + Math.log(row.reduce((a, v) => a + Math.exp(v - mx), 0)));
    });
    expectClose('q8_0 log-probs', got.logprobs[0], want, 5e-4, 5e-3);
    // and the f32 weights do not pass in its place: the quantisation error is far above the tolerance
    const f32ref = transformerForward(c, w, seq, 1, seq.length, null);
    const maxLogitDiff = Math.max(...Array.from(ref.logits, (v, i) => Math.abs(v - f32ref.logits[i])));
    expect(maxLogitDiff).toBeGreaterThan(5e-3);
    model.release();
  }, 120_000);

  test('a q4_k random-weight model (rows of 256): GPU logits equal the CPU reference on the dequantised weights', async () => {
    const gpu = await testGpu();
    const c = tinyConfig({ hiddenSize: 256, numHeads: 4, numKvHeads: 2, headDim: 64, intermediateSize: 256, vocabSize: 64, numLayers: 1 });
    const w = randomWeights(c, 6, 0.1);
    const plan = loadQuantPlan(c, 'q4_k')!;
    expect(plan.kept16).toEqual([]);
    const model = GpuTransformer.upload(gpu, c, w, { basePrecision: 'q4_k' });
    expect([...new Set(model.quant.values())]).toEqual(['Q4_K']);
    expect([...model.quant.keys()].sort()).toEqual([...plan.quant.keys()].sort());
    // the memory plan's tensors are the upload's (plannedQuant follows base_precision)
    const dry = GpuTransformer.allocateForPlan(gpu, c, { basePrecision: 'q4_k' });
    expect([...dry.quant.entries()].sort()).toEqual([...model.quant.entries()].sort());
    dry.release();
    const expected: WeightMap = roundedWeights(w, 'bf16');
    for (const name of plan.quant.keys()) {
      const t = w.get(name)!;
      expected.set(name, { shape: t.shape, data: dequantWords(quantizeMatrix(t.data, t.shape[0], t.shape[1], 'Q4_K'), 'Q4_K', t.shape[0], t.shape[1]) });
    }
    const rng = new Rng(4);
    const [B, T] = [2, 5];
    const tokens = Array.from({ length: B * T }, () => rng.int(c.vocabSize));
    const ref = transformerForward(c, expected, tokens, B, T, null);
    const ids = gpu.upload(tokens, [B * T], 'ids', 'u32');
    const pos = gpu.upload(Array.from({ length: B * T }, (_, i) => i % T), [B * T], 'pos', 'u32');
    const act = model.forward(ids, pos, B, T, null);
    const logits = model.logits(act.f);
    expectClose('q4_k logits', await gpu.read(logits), ref.logits, 5e-4, 5e-3);
    model.releaseActivations(act);
    gpu.release(ids, pos, logits);
    model.release();
  }, 120_000);

  test('an nf4_dq random-weight model: GPU log-probs equal the CPU reference on the dequantised weights; the plan counts its bytes', async () => {
    const gpu = await testGpu();
    // down_proj's rows hold 80 values (not whole 64-value NF4 blocks): it stays bf16
    const c = tinyConfig({ hiddenSize: 64, numHeads: 4, numKvHeads: 2, headDim: 16, intermediateSize: 80, vocabSize: 96, tieWordEmbeddings: false });
    const w = randomWeights(c, 15, 0.3);
    const plan = loadQuantPlan(c, 'nf4_dq')!;
    expect(plan.kept16).toEqual(['model.layers.0.mlp.down_proj.weight', 'model.layers.1.mlp.down_proj.weight']);
    expect(loadQuantSummary(c, 'nf4_dq')).toMatch(/14 matrices quantised to NF4_DQ \(NF4, double-quantised absmax\) at load; 2 kept in bf16 \(rows not a multiple of 64 values\): .*; 28\.9 KiB in bitsandbytes' double-quantised layout \(31\.5 KiB without\)$/);
    const model = GpuTransformer.upload(gpu, c, w, { basePrecision: 'nf4_dq' });
    expect([...new Set(model.quant.values())]).toEqual(['NF4_DQ']);
    expect([...model.quant.keys()].sort()).toEqual([...plan.quant.keys()].sort());
    // the memory plan's tensors are the upload's: bitsandbytes' bytes (32 code bytes and an 8-bit absmax code per 64
    // values, padded to a word; an f32 absmax2 per 256 blocks; the f32 offset), not NF4's 36 per 64
    const dry = GpuTransformer.allocateForPlan(gpu, c, { basePrecision: 'nf4_dq' });
    expect([...dry.quant.entries()].sort()).toEqual([...model.quant.entries()].sort());
    for (const name of plan.quant.keys()) {
      const [R, K] = w.get(name)!.shape;
      const nb = (R * K) / 64;
      const bytes = nb * 32 + Math.ceil(nb / 4) * 4 + Math.ceil(nb / 256) * 4 + 4;
      expect(quantGpuBytes(ggmlType('NF4_DQ'), R, K), name).toBe(bytes);
      expect(bytes, name).toBeLessThan((R * K * 36) / 64);
      expect(dry.w(name).buffer.size, name).toBe(Math.ceil(bytes / 256) * 256); // weight buffers: whole 256 bytes
      expect(model.w(name).buffer.size, name).toBe(dry.w(name).buffer.size);
      expect(model.w(name).shape, name).toEqual([R, (K / 64) * 8]);
    }
    dry.release();
    const expected: WeightMap = roundedWeights(w, 'bf16');
    for (const name of plan.quant.keys()) {
      const t = w.get(name)!;
      const { packed, absmax } = quantizeNf4(t.data);
      expected.set(name, { shape: t.shape, data: dequantizeNf4(packed, dequantizeAbsmax(doubleQuantizeAbsmax(absmax))) });
    }
    const rng = new Rng(19);
    const prompt = Array.from({ length: 5 }, () => rng.int(c.vocabSize));
    const completion = Array.from({ length: 7 }, () => rng.int(c.vocabSize));
    const got = await completionLogprobs(model, [{ prompt, completion }], null, 1);
    const seq = [...prompt, ...completion];
    const ref = transformerForward(c, expected, seq, 1, seq.length, null);
    const V = c.vocabSize;
    const want = completion.map((id, j) => {
      const row = ref.logits.subarray((prompt.length + j - 1) * V, (prompt.length + j) * V);
      const mx = Math.max(...row);
      return row[id] - (mx + Math.log(row.reduce((a, v) => a + Math.exp(v - mx), 0)));
    });
    expectClose('nf4_dq log-probs', got.logprobs[0], want, 5e-4, 5e-3);
    // plain NF4's weights (the f32 absmax, not the double-quantised one) do not pass in its place
    const plainW: WeightMap = new Map(expected);
    for (const name of plan.quant.keys()) {
      const t = w.get(name)!;
      plainW.set(name, { shape: t.shape, data: dequantWords(nf4Words(t.data, t.shape[0], t.shape[1], false), 'NF4', t.shape[0], t.shape[1]) });
    }
    const plainRef = transformerForward(c, plainW, seq, 1, seq.length, null);
    expect(Math.max(...Array.from(ref.logits, (v, i) => Math.abs(v - plainRef.logits[i])))).toBeGreaterThan(5e-3);
    model.release();
  }, 120_000);

  test('an nf4_dq LM head in vocabulary chunks of 256 rows (each chunk its own NF4_DQ tensor): log-probs and df equal the whole head\'s', async () => {
    const gpu = await testGpu();
    // 600 rows of 64: chunks of 256, 256 and 88 rows; the head's 256-block groups are 256 rows each
    const c = tinyConfig({ hiddenSize: 64, numHeads: 4, numKvHeads: 2, headDim: 16, intermediateSize: 128, vocabSize: 600, tieWordEmbeddings: false });
    const w = randomWeights(c, 6, 0.3);
    const model = GpuTransformer.upload(gpu, c, w, { basePrecision: 'nf4_dq' });
    expect(model.quant.get('lm_head.weight')).toBe('NF4_DQ');
    const rng = new Rng(33);
    const [N, C, V] = [5, 64, 600];
    const fx = randn(N * C, rng, 1);
    const tg = Array.from({ length: N }, () => rng.int(V));
    const f = gpu.upload(fx, [N, C], 'f');
    const targets = gpu.upload(tg, [N], 'targets', 'u32');
    const head = w.get('lm_head.weight')!;
    const wq = dequantWords(nf4Words(head.data, V, C, true), 'NF4_DQ', V, C);
    const want = tg.map((t, n) => {
      const row = Array.from({ length: V }, (_, v) => fx.subarray(n * C, n * C + C).reduce((a, x, k) => a + x * wq[v * C + k], 0));
      const mx = Math.max(...row);
      return row[t] - (mx + Math.log(row.reduce((a, z) => a + Math.exp(z - mx), 0)));
    });
    const run = async (chunkBytes: number) => {
      model.lmHeadChunkBytes = chunkBytes;
      const h = headLogprobs(model, f, targets, 1);
      const dlogp = gpu.upload(Array.from({ length: N }, (_, i) => 0.5 - i * 0.2), [N], 'dlogp');
      const df = gpu.zeros([N, C], 'df');
      headLogprobsBackward(model, df, dlogp, f, targets, h.lse, 1);
      const out = { logp: await gpu.read(h.logp), df: await gpu.read(df) };
      gpu.release(h.logp, h.entropy, h.lse, dlogp, df);
      return out;
    };
    const whole = await run(Infinity);
    const chunked = await run(N * 64 * 4); // vocabChunkColumns: 64 columns, rounded up to 256 rows
    expect(headChunkColumns(model, N)).toBe(256);
    expectClose('nf4_dq log-probs (whole head)', whole.logp, want, 5e-4, 5e-3);
    expectClose('nf4_dq chunked log-probs', chunked.logp, want, 5e-4, 5e-3);
    expectClose('nf4_dq chunked df', chunked.df, whole.df, 1e-5, 1e-4);
    expect(Math.max(...Array.from(whole.df, Math.abs))).toBeGreaterThan(1e-3);
    gpu.release(f, targets);
    model.release();
  }, 120_000);

  test('an nf4 random-weight model with LoRA: logits, chunked LM-head log-probs and LoRA gradients (dx through NF4) equal the reference', async () => {
    const gpu = await testGpu();
    const c = tinyConfig({ hiddenSize: 64, numHeads: 4, numKvHeads: 2, headDim: 16, intermediateSize: 128, vocabSize: 96, tieWordEmbeddings: false, numLayers: 1 });
    const w = randomWeights(c, 23, 0.3);
    const model = GpuTransformer.upload(gpu, c, w, { basePrecision: 'nf4' });
    expect(model.quant.size).toBe(9); // embedding, lm_head and the 7 projections: every row is whole 64-value blocks
    const expected: WeightMap = roundedWeights(w, 'bf16');
    for (const name of model.quant.keys()) {
      const t = w.get(name)!;
      expected.set(name, { shape: t.shape, data: dequantWords(nf4Words(t.data, t.shape[0], t.shape[1], false), 'NF4', t.shape[0], t.shape[1]) });
    }
    const lora = new LoraSet(gpu, c, { r: 2, alpha: 4, targetModules: ALL_TARGETS, useRslora: false });
    const refLora = randomizeLora(gpu, lora, new Rng(3));
    const [B, T] = [2, 5];
    const rng = new Rng(8);
    const tokens = Array.from({ length: B * T }, () => rng.int(c.vocabSize));
    const ref = transformerForward(c, expected, tokens, B, T, refLora);
    const ids = gpu.upload(tokens, [B * T], 'ids', 'u32');
    const pos = gpu.upload(Array.from({ length: B * T }, (_, i) => i % T), [B * T], 'pos', 'u32');
    const act = model.forward(ids, pos, B, T, lora);
    const logits = model.logits(act.f);
    expectClose('nf4 logits', await gpu.read(logits), ref.logits, 5e-4, 5e-3);
    // the LM head in vocabulary chunks (a chunk of NF4 block rows copied at a time)
    model.lmHeadChunkBytes = B * T * 32 * 4;
    const targets = gpu.upload(tokens.map((t) => (t + 1) % c.vocabSize), [B * T], 'targets', 'u32');
    const head = headLogprobs(model, act.f, targets, 1);
    const V = c.vocabSize;
    const want = tokens.map((t, n) => {
      const row = ref.logits.subarray(n * V, n * V + V);
      const mx = Math.max(...row);
      return row[(t + 1) % V] - (mx + Math.log(row.reduce((a, v) => a + Math.exp(v - mx), 0)));
    });
    expectClose('nf4 chunked log-probs', await gpu.read(head.logp), want, 5e-4, 5e-3);
    const dlogits = randn(B * T * V, rng, 1);
    const refGrads = transformerBackward(ref.acts, dlogits);
    const dl = gpu.upload(dlogits, [B * T, V], 'dlogits');
    lora.zeroGrads();
    model.backward(act, dl, null);
    for (const p of lora.pairs.values()) {
      const g = refGrads.lora.get(p.path)!;
      expectClose(`${p.path}.lora_A.grad`, await gpu.read(p.dA), g.A, 5e-4, 5e-3);
      expectClose(`${p.path}.lora_B.grad`, await gpu.read(p.dB), g.B, 5e-4, 5e-3);
    }
    model.releaseActivations(act);
    gpu.release(ids, pos, logits, targets, dl, head.logp, head.entropy, head.lse);
    lora.release();
    model.release();
  }, 120_000);

  test('stories260K: q8_0, nf4 and nf4_dq log-probs on a held-out text against bf16 and f32', async () => {
    const gpu = await testGpu();
    const loaded = await loadModelFromPath(STORIES_BIN);
    const c = loaded.config;
    // dim 64: every matrix but down_proj (rows of 172) is whole Q8_0 and NF4 blocks; no row is a whole 256-value Q4_K block
    expect(loadQuantPlan(c, 'q4_k')!.quant.size).toBe(0);
    expect(loadQuantPlan(c, 'nf4')!.kept16.every((n) => n.endsWith('down_proj.weight'))).toBe(true);
    expect(loadQuantPlan(c, 'q8_0')!.kept16.every((n) => n.endsWith('down_proj.weight'))).toBe(true);
    const text = 'The old dog sat by the door and waited for the boy to come home from school. When he came, they ran to the pond together.';
    const prompt = loaded.tokenizer.encode('The', { addBos: true });
    const completion = loaded.tokenizer.encode(text.slice(3), { addBos: false });
    const logprobs = async (basePrecision: BasePrecision) => {
      const model = GpuTransformer.upload(gpu, c, loaded.weights, { basePrecision, fileDtype: loaded.dtype });
      const r = await completionLogprobs(model, [{ prompt, completion }], null, 1);
      model.release();
      return r.logprobs[0];
    };
    const [f32, bf16, q8, nf4, nf4dq] = [await logprobs('f32'), await logprobs('bf16'), await logprobs('q8_0'), await logprobs('nf4'), await logprobs('nf4_dq')];
    const mad = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(a).reduce((s, v, i) => s + Math.abs(v - b[i]), 0) / a.length;
    const [q8VsBf16, q8VsF32, bf16VsF32] = [mad(q8, bf16), mad(q8, f32), mad(bf16, f32)];
    const [nf4VsBf16, nf4VsF32, dqVsBf16, dqVsF32, dqVsNf4] = [mad(nf4, bf16), mad(nf4, f32), mad(nf4dq, bf16), mad(nf4dq, f32), mad(nf4dq, nf4)];
    const meanLogp = Array.from(f32).reduce((s, v) => s + v, 0) / f32.length;
    console.log(
      `stories260K, ${completion.length} held-out tokens (mean log-prob ${meanLogp.toFixed(3)} in f32): mean |dlogp| ` +
        `q8_0 vs bf16 ${q8VsBf16.toExponential(3)}, q8_0 vs f32 ${q8VsF32.toExponential(3)}, bf16 vs f32 ${bf16VsF32.toExponential(3)}, ` +
        `nf4 vs bf16 ${nf4VsBf16.toExponential(3)}, nf4 vs f32 ${nf4VsF32.toExponential(3)}, ` +
        `nf4_dq vs bf16 ${dqVsBf16.toExponential(3)}, nf4_dq vs f32 ${dqVsF32.toExponential(3)}, nf4_dq vs nf4 ${dqVsNf4.toExponential(3)}`,
    );
    expect(q8VsBf16).toBeGreaterThan(0); // the quantised kernels ran
    // Q8_0's step is amax/127 per 32 values (relative error up to ~0.4% of a block's largest weight, bf16's
    // 2^-9 = 0.2% of each weight): its log-prob error should be of bf16's order: measured 2.3 times bf16's (0.023 vs 0.010 nats per token)
    expect(q8VsF32).toBeLessThan(4 * bf16VsF32);
    expect(q8VsBf16).toBeLessThan(0.05);
    // NF4: 16 levels over a 64-value block's [-absmax, absmax] (steps of 0.08 to 0.28 of absmax, 30 to 70 times
    // Q8_0's): its error is far above Q8_0's; double quantisation moves each absmax by under 1% of its nested block's
    // spread. Measured: nf4 vs bf16 0.440, nf4 vs f32 0.440, nf4_dq vs bf16 0.442, nf4_dq vs f32 0.444, nf4_dq vs nf4 0.039
    // nats per token (q8_0 vs bf16 0.0246, q8_0 vs f32 0.0230, bf16 vs f32 0.0102)
    expect(nf4VsF32).toBeGreaterThan(3 * q8VsF32);
    expect(nf4VsF32).toBeLessThan(1);
    expect(dqVsNf4).toBeGreaterThan(0); // the double-quantised absmax ran
    expect(dqVsNf4).toBeLessThan(0.5 * nf4VsF32);
  }, 240_000);
});
