// The GPU transformer against the independent whole-model CPU reference (src/reference/transformer.ts):
// logits, LoRA gradients and full-weight gradients; KV-cache decoding against full forwards; batched
// against one-at-a-time decoding.
import { describe, expect, test } from 'vitest';
import { testGpu } from '../gpu';
import { ALL_TARGETS, expectClose, forwardBackwardVsReference, gpuTinyConfig as tinyConfig, randomWeights, randomizeLora } from './tiny';
import { GpuTransformer } from '../../src/model/transformer';
import { LoraSet } from '../../src/model/lora';
import { generate } from '../../src/model/generate';
import type { LoraMap } from '../../src/reference/transformer';
import { Rng } from '../../src/util/random';
import type { ModelConfig } from '../../src/model/config';

async function setup(c: ModelConfig, seed: number, withLora: boolean) {
  const gpu = await testGpu();
  const weights = randomWeights(c, seed);
  const model = GpuTransformer.upload(gpu, c, weights);
  let lora: LoraSet | null = null;
  let refLora: LoraMap | null = null;
  if (withLora) {
    lora = new LoraSet(gpu, c, { r: 3, alpha: 6, targetModules: ALL_TARGETS, useRslora: false });
    refLora = randomizeLora(gpu, lora, new Rng(seed + 1));
  }
  return { gpu, weights, model, lora, refLora };
}

const CASES: [string, Partial<ModelConfig>][] = [
  ['rotate-half, GQA, tied', {}],
  ['interleaved, MHA, untied, q/k/v bias', { ropeConvention: 'interleaved', numKvHeads: 4, tieWordEmbeddings: false, attentionBias: true }],
  ['llama3 rope scaling', { ropeScaling: { type: 'llama3', factor: 8, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositionEmbeddings: 16 } }],
];

describe('GPU transformer vs CPU reference', () => {
  for (const [name, over] of CASES) {
    test(`forward logits and backward gradients: ${name}`, async () => {
      const c = tinyConfig(over);
      const { gpu, weights, model, lora, refLora } = await setup(c, 11, true);
      const { full, refGrads, release } = await forwardBackwardVsReference(model, c, weights, lora!, refLora!, 2, 5, new Rng(5));
      for (const p of lora!.pairs.values()) {
        const want = refGrads.lora.get(p.path)!;
        expectClose(`${p.path}.lora_A.grad`, await gpu.read(p.dA), want.A);
        expectClose(`${p.path}.lora_B.grad`, await gpu.read(p.dB), want.B);
      }
      for (const [wname, g] of full) {
        expectClose(`${wname}.grad`, await gpu.read(g), refGrads.weights.get(wname)!);
      }
      release();
      lora!.release();
      model.release();
    });
  }
});

/** Greedy continuation by repeated full forwards (no KV cache), as an independent check of decoding. */
async function greedyByFullForward(model: GpuTransformer, prompt: number[], steps: number, lora: LoraSet | null): Promise<number[]> {
  const { gpu } = model;
  const seq = [...prompt];
  for (let s = 0; s < steps; s++) {
    const T = seq.length;
    const ids = gpu.upload(seq, [T], 'ids', 'u32');
    const pos = gpu.upload(seq.map((_, i) => i), [T], 'pos', 'u32');
    const act = model.forward(ids, pos, 1, T, lora);
    const logits = await gpu.read(model.logits(act.f));
    model.releaseActivations(act);
    gpu.release(ids, pos);
    const V = model.config.vocabSize;
    let best = 0;
    for (let v = 1; v < V; v++) if (logits[(T - 1) * V + v] > logits[(T - 1) * V + best]) best = v;
    seq.push(best);
  }
  return seq.slice(prompt.length);
}

describe('generation', () => {
  test('KV-cache decoding continues exactly as repeated full forwards (greedy, with LoRA)', async () => {
    const c = tinyConfig({ vocabSize: 29 });
    const { model, lora } = await setup(c, 3, true);
    const prompt = [1, 5, 9, 4];
    const gen = await generate(model, [prompt], { maxNewTokens: 12, temperature: 0, topK: 0, topP: 1, seed: 0, stopIds: [], lora });
    expect(gen.tokens[0]).toEqual(await greedyByFullForward(model, prompt, 12, lora));
    lora!.release();
    model.release();
  });

  test('batched decoding of prompts of different lengths gives the same tokens as one at a time', async () => {
    const c = tinyConfig({ vocabSize: 29, ropeConvention: 'interleaved' });
    const { model } = await setup(c, 4, false);
    const prompts = [[1, 3], [1, 7, 8, 2, 5, 6], [1], [1, 9, 9, 9]];
    const opts = { maxNewTokens: 10, temperature: 0, topK: 0, topP: 1, seed: 0, stopIds: [], lora: null };
    const batched = await generate(model, prompts, opts);
    for (let i = 0; i < prompts.length; i++) {
      const single = await generate(model, [prompts[i]], opts);
      expect(batched.tokens[i]).toEqual(single.tokens[0]);
    }
    model.release();
  });

  test('stops at a stop id, per row, and reports why', async () => {
    const c = tinyConfig({ vocabSize: 29 });
    const { model } = await setup(c, 4, false);
    const free = await generate(model, [[1, 4]], { maxNewTokens: 8, temperature: 0, topK: 0, topP: 1, seed: 0, stopIds: [], lora: null });
    const stopId = free.tokens[0][3];
    const firstAt = free.tokens[0].indexOf(stopId);
    const stopped = await generate(model, [[1, 4]], { maxNewTokens: 8, temperature: 0, topK: 0, topP: 1, seed: 0, stopIds: [stopId], lora: null });
    expect(stopped.tokens[0]).toEqual(free.tokens[0].slice(0, firstAt));
    expect(stopped.finish[0]).toBe('stop');
    expect(free.finish[0]).toBe('length');
    model.release();
  });

  test('sampling is reproducible from the seed and differs across seeds', async () => {
    const c = tinyConfig({ vocabSize: 29 });
    const { model } = await setup(c, 4, false);
    const run = (seed: number) => generate(model, [[1, 4], [1, 4]], { maxNewTokens: 12, temperature: 1, topK: 0, topP: 1, seed, stopIds: [], lora: null });
    const a = await run(7);
    const b = await run(7);
    const d = await run(8);
    expect(a.tokens).toEqual(b.tokens);
    expect(a.tokens[0]).not.toEqual(a.tokens[1]); // rows draw independently
    expect(d.tokens).not.toEqual(a.tokens);
    model.release();
  });
});
