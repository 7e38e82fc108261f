// The preference trainer on the real WebGPU adapter with stories260K: the GPU gradient of the DPO loss
// (per-sequence log-prob sums -> CPU loss -> per-token dlogp -> fused head and transformer backward into
// LoRA) against a central finite difference along the gradient; the reference is the adapter-off model
// (at step 1 the policy equals it: DPO sigmoid loss log 2); DPO, SimPO, ORPO and KTO learn to prefer the
// chosen completion on held-out prompts; a checkpointed run resumes exactly.
import { describe, expect, test } from 'vitest';
import { testGpu } from '../gpu';
import { GpuTransformer } from '../../src/model/transformer';
import { PreferenceTrainer, logpSumsBackward, sequenceLogps } from '../../src/grpo/preference/trainer';
import { preparePreference } from '../../src/grpo/preference/data';
import { pairLoss } from '../../src/grpo/preference/losses';
import { restoreCheckpoint, saveCheckpoint } from '../../src/grpo/checkpoint';
import type { GrpoConfig } from '../../src/grpo/config';
import type { DatasetRow } from '../../src/data';
import { loadStories, STORY_PROMPTS, wordConfig } from './fixtures';

const pairRows = (): DatasetRow[] => STORY_PROMPTS.map((prompt, i) => ({ prompt, answer: ' dog', rejected: ' cat', line: i + 1, raw: {} }));
const unpairedRows = (): DatasetRow[] =>
  STORY_PROMPTS.flatMap((prompt, i) => [
    { prompt, answer: ' dog', label: true, line: 2 * i + 1, raw: {} },
    { prompt, answer: ' cat', label: false, line: 2 * i + 2, raw: {} },
  ]);

const config = (over: Partial<GrpoConfig>): GrpoConfig =>
  wordConfig({ algorithm: 'dpo', beta: 0.1, prompts_per_step: 4, learning_rate: 0.01, max_steps: 8, lr_scheduler_type: 'constant', warmup_ratio: 0, ...over });

async function setup(c: GrpoConfig, rows = pairRows()) {
  const gpu = await testGpu();
  const loaded = await loadStories();
  const model = GpuTransformer.upload(gpu, loaded.config, loaded.weights);
  const ex = preparePreference(rows, loaded, c).examples;
  // held out: the last four prompts (KTO: their eight examples)
  const cut = c.algorithm === 'kto' ? ex.length - 8 : ex.length - 4;
  return { gpu, model, train: ex.slice(0, cut), held: ex.slice(cut) };
}

describe('preference trainer on stories260K', () => {
  test('GPU gradient of the DPO loss (with the sft term) matches central finite differences', async () => {
    const c = config({ lora_r: 4, lora_alpha: 8 });
    const { gpu, model, train } = await setup(c);
    const trainer = new PreferenceTrainer({ gpu, model, config: c, train, eval: [] });
    const batch = train.slice(0, 3);
    const rows = [...batch.map((e) => ({ prompt: e.prompt.ids, completion: e.chosen })), ...batch.map((e) => ({ prompt: e.prompt.ids, completion: e.rejected! }))];
    const ref = await sequenceLogps(model, rows, null);
    const settings = { kind: 'dpo' as const, lossType: 'sigmoid' as const, beta: 2, labelSmoothing: 0, dpoWeight: 1, sftWeight: 0.5 };
    const lossOf = (s: number[]) =>
      pairLoss(batch.map((e, i) => ({ chosen: s[i], rejected: s[i + 3], refChosen: ref[i], refRejected: ref[i + 3], chosenLen: e.chosen.length, rejectedLen: e.rejected!.length })), settings);
    // move off the start (B = 0) so that every LoRA matrix has a gradient
    const params = trainer.lora.parameters();
    for (const p of params) {
      const v = await gpu.read(p.param);
      gpu.write(p.param, v.map((x, i) => x + 0.05 * Math.sin(i * 1.7 + p.name.length)));
    }
    trainer.optimizer.zeroGrads();
    await logpSumsBackward(gpu, model, trainer.lora, rows, (s) => {
      const r = lossOf(s);
      return [...r.dChosen, ...r.dRejected];
    });
    const base = await Promise.all(params.map((p) => gpu.read(p.param)));
    const grads = await Promise.all(params.map((p) => gpu.read(p.grad)));
    // the largest gradient entries and a few spread over the parameters, each against its own central difference
    const flat = grads.flatMap((g, k) => Array.from(g, (x, i) => ({ k, i, x })));
    const gmax = Math.max(...flat.map((e) => Math.abs(e.x)));
    expect(gmax).toBeGreaterThan(0);
    const largest = [...flat].sort((a, b) => Math.abs(b.x) - Math.abs(a.x)).slice(0, 4);
    const spread = flat.filter((e) => Math.abs(e.x) > 0.2 * gmax).filter((_, j, a) => j % Math.max(1, Math.floor(a.length / 4)) === 0).slice(0, 4);
    const h = 1e-2;
    for (const e of [...largest, ...spread]) {
      const at = async (d: number) => {
        gpu.write(params[e.k].param, base[e.k].map((x, i) => (i === e.i ? x + d : x)));
        return lossOf(await sequenceLogps(model, rows, trainer.lora)).loss;
      };
      const fd = ((await at(h)) - (await at(-h))) / (2 * h);
      gpu.write(params[e.k].param, base[e.k]);
      console.log(`${params[e.k].name}[${e.i}]: GPU ${e.x.toExponential(4)}, finite difference ${fd.toExponential(4)}`);
      expect(Math.abs(fd - e.x)).toBeLessThan(0.005 * Math.abs(e.x) + 5e-4 * gmax);
    }
    trainer.release();
    model.release();
  });

  test('DPO: loss log 2 at the start (reference = adapter off), then held-out pair accuracy and margins rise; resumes exactly', async () => {
    const c = config({});
    const { gpu, model, train, held } = await setup(c);
    const make = () => new PreferenceTrainer({ gpu, model, config: c, train, eval: held });
    const trainer = make();
    const before = await trainer.evaluatePairs();
    expect(before['eval_rewards/margins']).toBeCloseTo(0, 6);
    const steps = [];
    for (let s = 0; s < 6; s++) steps.push((await trainer.trainStep()).metrics);
    expect(steps[0].loss).toBeCloseTo(Math.log(2), 5);
    const after = await trainer.evaluatePairs();
    console.log('DPO loss per step:', steps.map((m) => m.loss.toFixed(3)).join(' '), 'held-out', before, after);
    expect(steps[5].loss).toBeLessThan(0.6);
    expect(after['eval_rewards/accuracies']).toBe(1);
    expect(after['eval_rewards/margins']).toBeGreaterThan(0.1);
    for (const k of ['rewards/chosen', 'rewards/rejected', 'rewards/accuracies', 'rewards/margins', 'logps/chosen', 'logps/rejected', 'grad_norm']) {
      expect(Number.isFinite(steps[5][k]), k).toBe(true);
    }
    // resume: a checkpoint after 3 steps, restored into a new trainer, gives steps 4..6 exactly
    const again = make();
    for (let s = 0; s < 3; s++) await again.trainStep();
    const bytes = await saveCheckpoint(gpu, again, 'fp');
    again.release();
    const resumed = make();
    restoreCheckpoint(gpu, resumed, bytes, 'ckpt', 'fp');
    expect(resumed.step).toBe(3);
    for (let s = 3; s < 6; s++) expect((await resumed.trainStep()).metrics.loss).toBeCloseTo(steps[s].loss, 5);
    resumed.release();
    trainer.release();
    model.release();
  });

  for (const [name, over] of [
    ['SimPO', { algorithm: 'simpo', beta: 2, simpo_gamma: 0.5, cpo_alpha: 0 }],
    ['ORPO', { algorithm: 'orpo', beta: 1 }],
    ['KTO', { algorithm: 'kto', beta: 0.1 }],
  ] as const) {
    test(`${name} learns to prefer the chosen completion on held-out prompts`, async () => {
      const c = config(over as Partial<GrpoConfig>);
      const { gpu, model, train, held } = await setup(c, name === 'KTO' ? unpairedRows() : pairRows());
      const trainer = new PreferenceTrainer({ gpu, model, config: c, train, eval: held });
      const before = await trainer.evaluatePairs();
      const losses: number[] = [];
      for (let s = 0; s < 6; s++) losses.push((await trainer.trainStep()).metrics.loss);
      const after = await trainer.evaluatePairs();
      console.log(name, 'loss per step:', losses.map((x) => x.toFixed(3)).join(' '), 'held-out', before, after);
      expect(losses[5]).toBeLessThan(losses[0]);
      expect(after['eval_rewards/margins']).toBeGreaterThan(before['eval_rewards/margins'] + 0.05);
      if (name !== 'KTO') expect(after['eval_rewards/accuracies']).toBe(1);
      trainer.release();
      model.release();
    });
  }
});
