// Rows that finish leave (GenerateOptions.compactFinished, DecodeState.compact): at each readback the rows that
// stopped leave the decode batch, later steps run with M = the rows still running, and each remaining row draws as
// it did in the full batch (sample.ts rowIndex). The tokens must equal the uncompacted path's for the same seed
// with rows of very different lengths (some stopping after a few tokens, some running to the end): stories260K
// (llama2.c) with f32 and bf16 caches, a tiny Qwen3 (q/k norms; fused decode weights off and on; a bf16 base with
// f16 caches), a tiny Gemma 3
// (sliding-window ring caches) and a tiny Qwen3.5 (linear layers' conv and recurrent states), unshared and with
// shared prompt prefixes; and the decode work (rows computed over the decode steps) must drop.
import { describe, expect, test } from 'vitest';
import { testGpu } from '../gpu';
import { loadModelFromPath } from '../../src/model/load_node';
import { GpuTransformer } from '../../src/model/transformer';
import { generate, type GenerateOptions } from '../../src/model/generate';
import { LoraSet } from '../../src/model/lora';
import { sample } from '../../src/gpu/kernels/sample';
import { sample as sampleCpu } from '../../src/reference/sample';
import { Rng } from '../../src/util/random';
import { ALL_TARGETS, gpuTinyConfig, randomizeLora } from './tiny';
import { GEMMA3_TINY, QWEN3_TINY, tinyFamilyWeights } from './families_fixtures';
import { tinyQwen35WithLora } from './qwen35_gpu_fixture';

const MODEL = new URL('../../../shared/models/stories260K/stories260K.bin', import.meta.url).pathname;

/** Compacted vs uncompacted generation of the same rows: equal tokens and finish reasons, fewer rows computed. */
async function compactedEqualsFull(model: GpuTransformer, rows: number[][], opts: Omit<GenerateOptions, 'compactFinished' | 'stats'>) {
  const fullStats = { prefillTokens: 0, decodeRowSteps: 0 };
  const compStats = { prefillTokens: 0, decodeRowSteps: 0 };
  const full = await generate(model, rows, { ...opts, compactFinished: false, stats: fullStats });
  const comp = await generate(model, rows, { ...opts, compactFinished: true, stats: compStats });
  expect(comp.tokens).toEqual(full.tokens);
  expect(comp.finish).toEqual(full.finish);
  expect(comp.steps).toBe(full.steps);
  const lens = full.tokens.map((t) => t.length);
  // the rows' lengths differ a lot: some stop early, one runs (nearly) to the end
  expect(Math.min(...lens)).toBeLessThan(full.steps / 2);
  expect(full.finish).toContain('stop');
  expect(full.finish.some((f, i) => f === 'length' || lens[i] >= full.steps - (opts.checkEvery ?? 16))).toBe(true);
  // the uncompacted path computes every row every step; the compacted one only the rows still running at the
  // last readback (each row at most its length rounded up to the next readback, plus the first draw)
  expect(fullStats.decodeRowSteps).toBe(full.steps * rows.length);
  expect(compStats.decodeRowSteps).toBeLessThan(fullStats.decodeRowSteps);
  const every = opts.checkEvery ?? 16;
  const bound = full.tokens.reduce((a, t, i) => a + Math.min(full.steps, full.finish[i] === 'stop' ? (Math.floor((t.length + 1) / every) + 1) * every : full.steps), 0);
  expect(compStats.decodeRowSteps).toBeLessThanOrEqual(bound);
  return { full, compStats, fullStats };
}

const sampling = { temperature: 1, topK: 0, topP: 1 };

describe('rows that finish leave the decode batch: the same tokens, fewer rows computed', () => {
  test('sample: rowIndex draws each row as the row it names (GPU = CPU reference, = the full batch)', async () => {
    const gpu = await testGpu();
    const B = 5;
    const V = 37;
    const rng = new Rng(3);
    const logits = Float32Array.from({ length: B * V }, () => rng.normal() * 2);
    const opts = { temperature: 1, topK: 0, topP: 0.95, seed: 77, counter: 9 };
    const full = new Uint32Array(B);
    sampleCpu(full, logits, opts, B, V);
    // rows 4, 1, 3 compacted into slots 0, 1, 2
    const keep = [4, 1, 3];
    const sub = new Float32Array(keep.length * V);
    keep.forEach((r, i) => sub.set(logits.subarray(r * V, r * V + V), i * V));
    const cpu = new Uint32Array(keep.length);
    sampleCpu(cpu, sub, { ...opts, rowIndex: keep }, keep.length, V);
    const lt = gpu.upload(sub, [keep.length, V], 'logits');
    const ids = gpu.tensor([keep.length], 'ids', 'u32');
    sample(gpu, ids, lt, { ...opts, rowIndex: keep });
    const got = await gpu.readU32(ids);
    expect([...cpu]).toEqual(keep.map((r) => full[r]));
    expect([...got]).toEqual([...cpu]);
    // without rowIndex slot i draws as row i: a different stream (so the test above can fail)
    sample(gpu, ids, lt, opts);
    const plain = await gpu.readU32(ids);
    const cpuPlain = new Uint32Array(keep.length);
    sampleCpu(cpuPlain, sub, opts, keep.length, V);
    expect([...plain]).toEqual([...cpuPlain]);
    gpu.release(lt, ids);
  });

  test('stories260K: f32 and bf16 caches, rows stopping early and late, unshared and shared prefixes', async () => {
    const gpu = await testGpu();
    const loaded = await loadModelFromPath(MODEL);
    const model = GpuTransformer.upload(gpu, loaded.config, loaded.weights);
    const enc = (s: string) => loaded.tokenizer.encode(s, { addBos: true });
    const prompts = [enc('Once upon a time'), enc('The dog'), enc('Lily saw a big red ball and')];
    // common tokens as stops, so rows end after very different numbers of tokens
    const stopIds = [...loaded.tokenizer.eosIds, ...enc('.').slice(1)];
    const rows = prompts.flatMap((p) => [p, p]);
    for (const kvPrecision of ['f32', 'bf16'] as const) {
      await compactedEqualsFull(model, rows, { ...sampling, seed: 12, maxNewTokens: 40, stopIds, lora: null, kvPrecision, checkEvery: 3 });
      await compactedEqualsFull(model, rows, { ...sampling, seed: 12, maxNewTokens: 40, stopIds, lora: null, kvPrecision, checkEvery: 3, groupSize: 2 });
    }
    model.release();
  });

  for (const [name, over] of [['qwen3', QWEN3_TINY], ['gemma3_text (ring caches)', GEMMA3_TINY]] as const) {
    test(`${name}: LoRA, f32 and bf16 caches, fused decode weights off and on`, async () => {
      const gpu = await testGpu();
      const c = gpuTinyConfig({ ...over, vocabSize: 29 });
      const model = GpuTransformer.upload(gpu, c, tinyFamilyWeights(c, 7));
      const lora = new LoraSet(gpu, c, { r: 2, alpha: 4, targetModules: ALL_TARGETS, useRslora: false });
      randomizeLora(gpu, lora, new Rng(8));
      const rows = [[1, 5, 9, 4, 7], [2, 3], [6], [1, 5, 9, 4, 7], [2, 3], [8, 8, 2]];
      for (const kvPrecision of ['f32', 'bf16'] as const) {
        for (const fusedWeightBudget of [0, 2 ** 26]) {
          await compactedEqualsFull(model, rows, { ...sampling, seed: 5, maxNewTokens: 30, stopIds: [3, 11], lora, kvPrecision, fusedWeightBudget, checkEvery: 2 });
        }
      }
      lora.release();
      model.release();
    });
  }

  test('qwen3 with a bf16 base (packed matmuls, LoRA unmerged) and f16 caches', async () => {
    const gpu = await testGpu();
    const c = gpuTinyConfig({ ...QWEN3_TINY, vocabSize: 29 });
    const model = GpuTransformer.upload(gpu, c, tinyFamilyWeights(c, 7), { basePrecision: 'bf16' });
    const lora = new LoraSet(gpu, c, { r: 2, alpha: 4, targetModules: ALL_TARGETS, useRslora: false });
    randomizeLora(gpu, lora, new Rng(8));
    const rows = [[1, 5, 9, 4, 7], [2, 3], [6], [1, 5, 9, 4, 7], [2, 3], [8, 8, 2]];
    await compactedEqualsFull(model, rows, { ...sampling, seed: 5, maxNewTokens: 30, stopIds: [3, 11], lora, kvPrecision: 'f16', checkEvery: 2 });
    lora.release();
    model.release();
  });

  test('the pool\'s peak with finished rows leaving is at most the peak of every row decoded to the end (also in a later phase)', async () => {
    const gpu = await testGpu();
    const c = gpuTinyConfig({ ...QWEN3_TINY, vocabSize: 29 });
    const model = GpuTransformer.upload(gpu, c, tinyFamilyWeights(c, 7));
    const rows = [[1, 5, 9, 4, 7], [2, 3], [6], [1, 5, 9, 4, 7], [2, 3], [8, 8, 2]];
    const opts = { ...sampling, seed: 5, maxNewTokens: 30, stopIds: [3, 11], lora: null, checkEvery: 2 };
    const peak = async (compactFinished: boolean) => {
      await gpu.sync();
      gpu.pool.trim();
      gpu.pool.stats.peakBytesAllocated = gpu.pool.stats.bytesAllocated;
      const stats = { prefillTokens: 0, decodeRowSteps: 0 };
      const gen = await generate(model, rows, { ...opts, compactFinished, stats });
      // a later phase at the full batch's sizes (every row to the end: no stop ids)
      await generate(model, rows, { ...opts, stopIds: [], maxNewTokens: 12, compactFinished });
      await gpu.sync();
      return { peak: gpu.pool.stats.peakBytesAllocated, gen, rowSteps: stats.decodeRowSteps };
    };
    const full = await peak(false);
    const comp = await peak(true);
    expect(comp.gen.tokens).toEqual(full.gen.tokens);
    expect(comp.rowSteps).toBeLessThan(full.rowSteps);
    expect(comp.peak).toBeLessThanOrEqual(full.peak);
    model.release();
  });

  test('qwen3.5 (linear layers: conv and recurrent states move with their rows), LoRA', async () => {
    const gpu = await testGpu();
    const q = tinyQwen35WithLora(gpu);
    const { model, lora } = q;
    const rows = [[1, 5, 9, 4, 7, 3, 8], [1, 5, 9, 4, 7, 3, 8], [2, 3], [2, 3], [4], [4]];
    await compactedEqualsFull(model, rows, { ...sampling, seed: 9, maxNewTokens: 30, stopIds: [3, 11], lora, checkEvery: 2 });
    await compactedEqualsFull(model, rows, { ...sampling, seed: 9, maxNewTokens: 30, stopIds: [3, 11], lora, checkEvery: 2, groupSize: 2 });
    q.release();
  });
});
