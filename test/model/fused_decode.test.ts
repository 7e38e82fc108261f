// Decoding with fused projections (q/k/v and gate/up as one matmul each against stacked weight copies,
// RoPE + both KV-cache writes in one dispatch, residual add + RMSNorm in one) gives the same tokens as the
// separate projections, with LoRA merged in and with q/k/v biases, with f32 and bf16 KV caches, and leaves
// nothing allocated.
import { describe, expect, test } from 'vitest';
import { testGpu } from '../gpu';
import { gpuTinyConfig as tinyConfig, randomWeights } from './tiny';
import { GpuTransformer } from '../../src/model/transformer';
import { LoraSet, type LoraModule } from '../../src/model/lora';
import { generate, type GenerateOptions } from '../../src/model/generate';
import { Rng, randn } from '../../src/util/random';
import type { ModelConfig } from '../../src/model/config';
import { DECODE_FUSIONS } from '../../src/model/decode_state';
import { readFileSync } from 'node:fs';

const ALL: LoraModule[] = ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'];

const CASES: [string, Partial<ModelConfig>][] = [
  ['rotate-half, GQA, tied', { vocabSize: 29 }],
  ['interleaved, MHA, untied, q/k/v bias', { vocabSize: 29, ropeConvention: 'interleaved', numKvHeads: 4, tieWordEmbeddings: false, attentionBias: true }],
];

describe('fused decode projections', () => {
  for (const [name, over] of CASES) {
    test(`same tokens as separate projections: ${name}`, async () => {
      const gpu = await testGpu();
      const c = tinyConfig(over);
      const model = GpuTransformer.upload(gpu, c, randomWeights(c, 9));
      const lora = new LoraSet(gpu, c, { r: 3, alpha: 6, targetModules: ALL, useRslora: false });
      const rng = new Rng(10);
      for (const p of lora.pairs.values()) {
        gpu.write(p.A, randn(p.A.size, rng, 0.3));
        gpu.write(p.B, randn(p.B.size, rng, 0.3));
      }
      const prompts = [[1, 3], [1, 7, 8, 2, 5, 6], [1, 9]];
      const C = c.hiddenSize;
      const qkvBytes = c.numLayers * (c.numHeads + 2 * c.numKvHeads) * c.headDim * C * 4;
      const before = gpu.pool.stats.bytesInUse;
      // KV caches in f32, and in bf16 (rope_kv_cache_write_packed16.wgsl against kv_cache_write_packed16.wgsl)
      for (const [withLora, kvPrecision] of [[null, 'f32'], [lora, 'f32'], [lora, 'bf16']] as const) {
        const run = (fusedWeightBudget: number, temperature: number) => {
          const opts: GenerateOptions = { maxNewTokens: 10, temperature, topK: 0, topP: 1, seed: 5, stopIds: [], lora: withLora, fusedWeightBudget, kvPrecision };
          return generate(model, prompts, opts);
        };
        for (const temperature of [0, 1]) {
          const separate = await run(0, temperature);
          expect((await run(qkvBytes, temperature)).tokens, `q/k/v fused only, ${kvPrecision} caches`).toEqual(separate.tokens);
          expect((await run(1e9, temperature)).tokens, `q/k/v and gate/up fused, ${kvPrecision} caches`).toEqual(separate.tokens);
        }
      }
      expect(gpu.pool.stats.bytesInUse).toBe(before);
      lora.release();
      model.release();
    });
  }
});

describe('RoPE + KV-cache writes fused without stacked q/k/v (rope_kv_cache_write_split, issue 30)', () => {
  test('each _split kernel is its stacked twin\'s body with another reader of q, k, v (no copy of the arithmetic)', () => {
    for (const [stacked, split, body] of [
      ['rope_kv_cache_write', 'rope_kv_cache_write_split', 'rope_kv_cache_write_body'],
      ['rope_kv_cache_write_packed16', 'rope_kv_cache_write_split_packed16', 'rope_kv_cache_write_packed16_body'],
    ]) {
      const code = (name: string) => readFileSync(`shaders/${name}.wgsl`, 'utf8').split('\n').filter((l) => !l.startsWith('//') || l.startsWith('//#'));
      expect(code(stacked).filter((l) => l.startsWith('//#include')), stacked).toEqual([`//#include ${body}`]);
      expect(code(split).filter((l) => l.startsWith('//#include')), split).toEqual(['//#include rope_kv_split_qkv', `//#include ${body}`]);
      // the split kernel is nothing but its two includes; the stacked one declares qkv and qkv_at
      expect(code(split).filter((l) => l.trim() !== '' && !l.startsWith('//#include')), split).toEqual([]);
      expect(code(stacked).join('\n'), stacked).not.toMatch(/fn main/);
    }
  });
  // a 16-bit base never stacks q/k/v; an f32 base does not either with fusedWeightBudget 0
  const BASES: [string, 'f32' | 'bf16', number][] = [['bf16 base', 'bf16', 1e9], ['f32 base, nothing stacked', 'f32', 0]];
  for (const [name, basePrecision, fusedWeightBudget] of BASES) {
    test(`same tokens as rope_qk_forward + two kv_cache_write: ${name}`, async () => {
      const gpu = await testGpu();
      const c = tinyConfig({ vocabSize: 29 });
      const model = GpuTransformer.upload(gpu, c, randomWeights(c, 11), { basePrecision });
      const prompts = [[1, 3], [1, 7, 8, 2, 5, 6], [1, 9]];
      const before = gpu.pool.stats.bytesInUse;
      try {
        for (const kvPrecision of ['f32', 'bf16'] as const) {
          for (const temperature of [0, 1]) {
            const opts: GenerateOptions = { maxNewTokens: 10, temperature, topK: 0, topP: 1, seed: 5, stopIds: [], lora: null, fusedWeightBudget, kvPrecision };
            DECODE_FUSIONS.ropeKvSplit = false;
            const d0 = gpu.dispatchCount;
            const unfused = await generate(model, prompts, opts);
            const unfusedDispatches = gpu.dispatchCount - d0;
            DECODE_FUSIONS.ropeKvSplit = true;
            const d1 = gpu.dispatchCount;
            const fused = await generate(model, prompts, opts);
            const fusedDispatches = gpu.dispatchCount - d1;
            expect(fused.tokens, `${kvPrecision} caches, temperature ${temperature}`).toEqual(unfused.tokens);
            expect(fused.tokens.flat().length).toBeGreaterThan(0);
            // 2 dispatches fewer per layer per decode step (9 decode steps after the prefill's token)
            expect(unfusedDispatches - fusedDispatches).toBe(2 * c.numLayers * 9);
          }
        }
      } finally {
        DECODE_FUSIONS.ropeKvSplit = true;
      }
      expect(gpu.pool.stats.bytesInUse).toBe(before);
      model.release();
    });
  }
});
