// Shared-prefix training (UpdateOptions.sharedPrefix, src/model/prefix_pack.ts): the policy update with each
// group's prompt forwarded once and its completions as masked segments equals the unshared update (one row per
// completion) within float tolerance: the loss, KL, clip fractions, the traced log-probs and ratios, every LoRA
// gradient and the LoRA after the optimizer steps. Cases: num_iterations 2 with a learning rate large enough to
// clip in the second iteration, KL beta > 0, GSPO (importance_sampling_level "sequence"), a tool's mask
// (modelMask) and a truncated completion, per-token advantages, and passes that cut a group (rowsPerPass).
// Models: the tiny Llama of the GPU tests, a tiny Qwen3 (q/k norms) and a tiny Gemma 3 (sliding window of 3 on
// positions, GeGLU, four norms); Qwen3.5 (linear-attention layers) is refused.
import { describe, expect, test } from 'vitest';
import { policyUpdate, type TrainSequence, type UpdateOptions, type UpdateStats } from '../../src/grpo/policy_update';
import { AdamW } from '../../src/grpo/optimizer';
import { LoraSet } from '../../src/model/lora';
import { GpuTransformer } from '../../src/model/transformer';
import { sharedPrefixTrainingUnsupported } from '../../src/model/policy_model';
import { sharedPrefixHost, sharedPrefixTokens } from '../../src/model/prefix_pack';
import { Rng } from '../../src/util/random';
import type { ModelConfig } from '../../src/model/config';
import type { WeightMap } from '../../src/model/weights';
import { testGpu } from '../gpu';
import { ALL_TARGETS, gpuTinyConfig, randomWeights, randomizeLora } from '../model/tiny';
import { GEMMA3_TINY, QWEN3_TINY, tinyFamilyWeights } from '../model/families_fixtures';
import { qwen35TinyConfig, qwen35Weights } from '../model/qwen35_fixtures';

const V = 37;

/** Two groups (prompts of 6 and 2 tokens) of 3 completions each; one completion truncated (active < length), one
 * with a tool's inserted tokens (modelMask), one with per-token advantages. */
function sequences(): TrainSequence[] {
  const rng = new Rng(77);
  const tok = (n: number) => Array.from({ length: n }, () => 3 + Math.floor(rng.uniform() * (V - 3)));
  const p1 = tok(6);
  const p2 = tok(2);
  const lens = [[7, 4, 9], [5, 8, 3]];
  const advs = [[1.2, -0.4, -0.8], [0.9, 0.1, -1.0]];
  const out: TrainSequence[] = [];
  [p1, p2].forEach((prompt, g) => lens[g].forEach((L, i) => {
    const completion = tok(L);
    const s: TrainSequence = { prompt, completion, advantage: advs[g][i], active: L };
    if (g === 0 && i === 1) s.active = 3; // truncated: its last token is out of the loss
    if (g === 0 && i === 2) s.modelMask = [1, 1, 0, 0, 1, 1, 1, 0, 1]; // a tool's inserted tokens
    if (g === 1 && i === 1) s.tokenAdvantages = completion.map((_, j) => 0.3 - 0.1 * j);
    out.push(s);
  }));
  return out;
}

async function readAll(gpu: Awaited<ReturnType<typeof testGpu>>, lora: LoraSet): Promise<{ grads: Float32Array[]; params: Float32Array[] }> {
  const grads: Float32Array[] = [];
  const params: Float32Array[] = [];
  for (const p of lora.parameters()) {
    grads.push(await gpu.read(p.grad));
    params.push(await gpu.read(p.param));
  }
  return { grads, params };
}

function maxAbsDiff(a: Float32Array[], b: Float32Array[]): { diff: number; scale: number } {
  let diff = 0;
  let scale = 0;
  a.forEach((x, k) => x.forEach((v, i) => {
    diff = Math.max(diff, Math.abs(v - b[k][i]));
    scale = Math.max(scale, Math.abs(b[k][i]));
  }));
  return { diff, scale };
}

/** The same update (same initial LoRA, same sequences) unshared and shared; returns both stats and LoRAs. */
async function both(config: ModelConfig, weights: WeightMap, opts: UpdateOptions, microBatches: (s: TrainSequence[]) => TrainSequence[][]) {
  const gpu = await testGpu();
  const model = GpuTransformer.upload(gpu, config, weights);
  const run = async (sharedPrefix: boolean) => {
    const lora = new LoraSet(gpu, config, { r: 2, alpha: 4, targetModules: ALL_TARGETS, useRslora: false });
    randomizeLora(gpu, lora, new Rng(5));
    const opt = new AdamW(gpu, lora.parameters(), { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, maxGradNorm: 1e9 });
    const stats = await policyUpdate(gpu, model, lora, opt, microBatches(sequences()), { ...opts, sharedPrefix });
    const got = await readAll(gpu, lora);
    opt.release();
    lora.release();
    return { stats, ...got };
  };
  const off = await run(false);
  const on = await run(true);
  model.release();
  return { off, on };
}

function compare(name: string, off: { stats: UpdateStats; grads: Float32Array[]; params: Float32Array[] }, on: typeof off) {
  const g = maxAbsDiff(on.grads, off.grads);
  const p = maxAbsDiff(on.params, off.params);
  const lpOff = off.stats.traces!.flat().flatMap((t) => t.logp);
  const lpOn = on.stats.traces!.flat().flatMap((t) => t.logp);
  const lp = Math.max(...lpOn.map((x, i) => Math.abs(x - lpOff[i])));
  const rOff = off.stats.traces!.flat().flatMap((t) => t.ratio);
  const rOn = on.stats.traces!.flat().flatMap((t) => t.ratio);
  const ratio = Math.max(...rOn.map((x, i) => Math.abs(x - rOff[i])));
  console.log(`${name}: max |diff| logp ${lp.toExponential(2)}, ratio ${ratio.toExponential(2)}, loss ${Math.abs(on.stats.loss - off.stats.loss).toExponential(2)}, `
    + `kl ${Math.abs(on.stats.kl - off.stats.kl).toExponential(2)}, LoRA grads ${g.diff.toExponential(2)} (largest ${g.scale.toExponential(2)}), `
    + `LoRA after the steps ${p.diff.toExponential(2)}; clip low/high ${off.stats.clipLow.toFixed(3)}/${off.stats.clipHigh.toFixed(3)} vs ${on.stats.clipLow.toFixed(3)}/${on.stats.clipHigh.toFixed(3)}; `
    + `grid tokens ${off.stats.trainTokens} -> ${on.stats.trainTokens}, computed ${off.stats.computedTokens} -> ${on.stats.computedTokens}`);
  // float32 summation order only: the log-probs (of magnitude up to ~10) agree to 1e-4 after an optimizer step of
  // lr 0.2, and AdamW's first steps (m / sqrt(v)) turn gradient rounding of the smallest entries into parameter
  // differences of order lr * 1e-3 at most
  expect(lp).toBeLessThan(1e-4);
  expect(ratio).toBeLessThan(1e-4);
  expect(Math.abs(on.stats.loss - off.stats.loss)).toBeLessThan(1e-5 * Math.max(1, Math.abs(off.stats.loss)));
  expect(Math.abs(on.stats.kl - off.stats.kl)).toBeLessThan(1e-5);
  expect(on.stats.clipLow).toBe(off.stats.clipLow);
  expect(on.stats.clipHigh).toBe(off.stats.clipHigh);
  expect(on.stats.gradNorm).toBeCloseTo(off.stats.gradNorm, 4);
  expect(g.diff).toBeLessThan(1e-4 * Math.max(1, g.scale));
  expect(p.diff).toBeLessThan(2e-4);
  expect(g.scale).toBeGreaterThan(1e-3); // the gradients are not trivially zero
  // the traces' shapes agree
  expect(on.stats.traces!.flat().map((t) => t.logp.length)).toEqual(off.stats.traces!.flat().map((t) => t.logp.length));
}

const base: UpdateOptions = {
  lossType: 'dapo', maxCompletionLength: 9, numIterations: 2, temperature: 1,
  loss: { epsilon: 0.2, epsilonHigh: 0.28, beta: 0.04 }, learningRate: 0.2, dropoutCounter: 0, trace: true,
};

describe('shared-prefix training equals the unshared update', () => {
  test('packing: positions restart at P-1 per segment, targets are each row\'s, the prompt counted once', () => {
    const rows = [{ prompt: [1, 2, 3], completion: [7, 8] }, { prompt: [1, 2, 3], completion: [9] }, { prompt: [4], completion: [5, 6] }];
    const h = sharedPrefixHost(rows, 64);
    expect([h.B, h.T]).toEqual([2, 8]);
    expect(Array.from(h.ids.subarray(0, 7))).toEqual([1, 2, 3, 7, 8, 3, 9]);
    expect(Array.from(h.positions.subarray(0, 7))).toEqual([0, 1, 2, 3, 4, 2, 3]);
    expect(Array.from(h.targets.subarray(0, 7))).toEqual([2, 3, 7, 8, 0, 9, 0]);
    expect(Array.from(h.segments.subarray(0, 14))).toEqual([0, 0, 0, 0, 2, 2, 2, 2, 2, 2, 2, 5, 2, 5]);
    expect([h.row, h.start]).toEqual([[0, 0, 1], [2, 5, 0]]);
    expect(Array.from(h.ids.subarray(8, 11))).toEqual([4, 5, 6]);
    expect(sharedPrefixTokens(rows)).toBe(7 + 3);
  });

  test('llama (GQA): num_iterations 2, clipping, KL beta > 0, a tool mask, a truncated completion, per-token advantages', async () => {
    const c = gpuTinyConfig({ vocabSize: V });
    const { off, on } = await both(c, randomWeights(c, 3), base, (s) => [s]);
    expect(off.stats.clipLow + off.stats.clipHigh).toBeGreaterThan(0); // the second iteration clips
    compare('llama dapo mu=2 beta=0.04', off, on);
    expect(on.stats.computedTokens).toBeLessThan(off.stats.computedTokens);
  }, 300_000);

  test('qwen3 (q/k norms): GSPO (sequence-level ratios), grpo loss, passes that cut a group', async () => {
    const c = gpuTinyConfig({ ...QWEN3_TINY, vocabSize: V });
    const w = tinyFamilyWeights(c, 11);
    const gspo: UpdateOptions = { ...base, lossType: 'grpo', loss: { epsilon: 3e-4, epsilonHigh: 4e-4, beta: 0, importanceSamplingLevel: 'sequence' } };
    const a = await both(c, w, gspo, (s) => [s]);
    compare('qwen3 gspo mu=2', a.off, a.on);
    // two micro-batches, and passes of 2 rows: a group of 3 cut in two
    const b = await both(c, w, { ...base, rowsPerPass: 2 }, (s) => [s.slice(0, 3), s.slice(3)]);
    compare('qwen3 dapo beta=0.04, rowsPerPass 2', b.off, b.on);
  }, 300_000);

  test('gemma3_text (sliding-window layers, the window on positions): num_iterations 2, KL beta > 0', async () => {
    const c = gpuTinyConfig({ ...GEMMA3_TINY, vocabSize: V });
    expect(c.slidingWindow).toBeGreaterThan(0);
    expect(c.slidingWindow).toBeLessThan(9); // shorter than the completions: the window cuts into the prompt
    const { off, on } = await both(c, tinyFamilyWeights(c, 7), base, (s) => [s]);
    compare('gemma3 dapo mu=2 beta=0.04', off, on);
  }, 300_000);

  test('models whose tokens mix outside attention are refused', async () => {
    const gpu = await testGpu();
    const q35 = qwen35TinyConfig();
    const qwen35 = GpuTransformer.upload(gpu, q35, qwen35Weights(q35, 3));
    expect(sharedPrefixTrainingUnsupported(qwen35)).toMatch(/linear-attention/);
    const lora = new LoraSet(gpu, q35, { r: 2, alpha: 4, targetModules: ['q_proj'], useRslora: false });
    const opt = new AdamW(gpu, lora.parameters(), { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, maxGradNorm: 1e9 });
    const seqs = [{ prompt: [1, 2], completion: [3, 4], advantage: 1, active: 2 }, { prompt: [1, 2], completion: [5], advantage: -1, active: 1 }];
    await expect(policyUpdate(gpu, qwen35, lora, opt, [seqs], { ...base, numIterations: 1, sharedPrefix: true })).rejects.toThrow(/shared-prefix training: .*linear-attention/);
    opt.release();
    lora.release();
    qwen35.release();
  }, 300_000);
});
