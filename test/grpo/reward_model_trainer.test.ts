// Reward models on the real WebGPU adapter with stories260K: the reward (LoRA forward, final norm, scalar head
// on the last token) against the CPU reference model; the GPU gradient of the Bradley-Terry loss (into LoRA and
// the head) against central finite differences; training ranks held-out pairs; the SEQ_CLS export loads back
// and a reward_model scorer (single and ensemble) scores with the policy's own base weights.
import { describe, expect, test } from 'vitest';
import { testGpu } from '../gpu';
import { GpuTransformer } from '../../src/model/transformer';
import { preparePreference } from '../../src/grpo/preference/data';
import { RewardModelTrainer, rewardsBackward, sequenceRewards } from '../../src/grpo/reward_model/trainer';
import { bradleyTerryLoss, reduceEnsemble } from '../../src/grpo/reward_model/loss';
import { createRewardModelScorer } from '../../src/grpo/reward_model/scorer';
import { exportRewardAdapter, parseRewardAdapter } from '../../src/model/reward_adapter';
import { SCORE_WEIGHT_KEY } from '../../src/model/score_head';
import { readSafetensors } from '../../src/model/safetensors';
import { transformerForward } from '../../src/reference/transformer';
import { restoreCheckpoint, saveCheckpoint } from '../../src/grpo/checkpoint';
import { createRewardScorer } from '../../src/grpo/rewards_scorer';
import type { GrpoConfig } from '../../src/grpo/config';
import type { DatasetRow } from '../../src/data';
import { Rng } from '../../src/util/random';
import { randomizeLora } from '../model/tiny';
import { loadStories, STORY_PROMPTS, wordConfig } from './fixtures';

const pairRows = (margin = false): DatasetRow[] =>
  STORY_PROMPTS.map((prompt, i) => ({ prompt, answer: ' dog', rejected: ' cat', line: i + 1, raw: margin ? { margin: 0.5 + (i % 3) } : {} }));

const config = (over: Partial<GrpoConfig> = {}): GrpoConfig =>
  wordConfig({ algorithm: 'reward_model', prompts_per_step: 4, learning_rate: 0.01, max_steps: 8, lr_scheduler_type: 'constant', warmup_ratio: 0, ...over });

async function setup(c: GrpoConfig, rows = pairRows()) {
  const gpu = await testGpu();
  const loaded = await loadStories();
  const model = GpuTransformer.upload(gpu, loaded.config, loaded.weights);
  const ex = preparePreference(rows, loaded, c).examples;
  return { gpu, loaded, model, train: ex.slice(0, ex.length - 4), held: ex.slice(ex.length - 4) };
}

describe('reward model on stories260K', () => {
  test('the GPU reward equals the CPU reference: final-norm hidden state of the last token . score weight', async () => {
    const c = config({ lora_r: 2, lora_alpha: 4 });
    const { gpu, loaded, model, train } = await setup(c);
    const trainer = new RewardModelTrainer({ gpu, model, config: c, train, eval: [] });
    const refLora = randomizeLora(gpu, trainer.lora, new Rng(7));
    const w = await trainer.head.read();
    const rows = train.slice(0, 3).flatMap((e) => [{ prompt: e.prompt.ids, completion: e.chosen }, { prompt: e.prompt.ids, completion: e.rejected! }]);
    const got = await sequenceRewards(model, rows, trainer.lora, w);
    const C = loaded.config.hiddenSize;
    rows.forEach((r, i) => {
      const seq = [...r.prompt, ...r.completion];
      const { acts } = transformerForward(loaded.config, loaded.weights, seq, 1, seq.length, refLora);
      let want = 0;
      for (let k = 0; k < C; k++) want += acts.f[(seq.length - 1) * C + k] * w[k];
      expect(Math.abs(got[i] - want), `row ${i}: GPU ${got[i]} reference ${want}`).toBeLessThan(2e-4 + 2e-3 * Math.abs(want));
    });
    // the LoRA matters: the same rows without it score differently
    const off = await sequenceRewards(model, rows, null, w);
    expect(Math.max(...off.map((x, i) => Math.abs(x - got[i])))).toBeGreaterThan(1e-3);
    trainer.release();
    model.release();
  });

  test('GPU gradient of the Bradley-Terry loss (margins, centring) into LoRA and the head matches central finite differences', async () => {
    const c = config({ lora_r: 4, lora_alpha: 8, center_rewards_coefficient: 0.05 });
    const { gpu, model, train } = await setup(c, pairRows(true));
    const trainer = new RewardModelTrainer({ gpu, model, config: c, train, eval: [] });
    const batch = train.slice(0, 3);
    const rows = [...batch.map((e) => ({ prompt: e.prompt.ids, completion: e.chosen })), ...batch.map((e) => ({ prompt: e.prompt.ids, completion: e.rejected! }))];
    const margins = batch.map((e) => Number(e.prompt.raw.margin));
    const lossOf = (r: number[]) => bradleyTerryLoss(r.slice(0, 3), r.slice(3), margins, 0.05);
    const params = trainer.lora.parameters();
    for (const p of params) {
      const v = await gpu.read(p.param);
      gpu.write(p.param, v.map((x, i) => x + 0.05 * Math.sin(i * 1.7 + p.name.length)));
    }
    const w = Float32Array.from(await trainer.head.read(), (x, i) => x + 0.3 * Math.cos(i));
    trainer.optimizer.zeroGrads();
    const { dw } = await rewardsBackward(model, trainer.lora, w, rows, (r) => {
      const l = lossOf(r);
      return [...l.dChosen, ...l.dRejected];
    });
    const lossAt = async (ww: Float32Array) => lossOf(await sequenceRewards(model, rows, trainer.lora, ww)).loss;
    const h = 1e-2;
    // the head: every weight
    const gw = Math.max(...Array.from(dw, Math.abs));
    expect(gw).toBeGreaterThan(0);
    for (let k = 0; k < w.length; k += 9) {
      const fd = ((await lossAt(w.map((x, i) => (i === k ? x + h : x)))) - (await lossAt(w.map((x, i) => (i === k ? x - h : x))))) / (2 * h);
      expect(Math.abs(fd - dw[k]), `score.weight[${k}]: ${dw[k]} vs ${fd}`).toBeLessThan(0.005 * Math.abs(dw[k]) + 5e-4 * gw);
    }
    // LoRA: the largest entries
    const base = await Promise.all(params.map((p) => gpu.read(p.param)));
    const grads = await Promise.all(params.map((p) => gpu.read(p.grad)));
    const flat = grads.flatMap((g, k) => Array.from(g, (x, i) => ({ k, i, x })));
    const gmax = Math.max(...flat.map((e) => Math.abs(e.x)));
    expect(gmax).toBeGreaterThan(0);
    for (const e of [...flat].sort((a, b) => Math.abs(b.x) - Math.abs(a.x)).slice(0, 5)) {
      const at = async (d: number) => {
        gpu.write(params[e.k].param, base[e.k].map((x, i) => (i === e.i ? x + d : x)));
        return lossAt(w);
      };
      const fd = ((await at(h)) - (await at(-h))) / (2 * h);
      gpu.write(params[e.k].param, base[e.k]);
      console.log(`${params[e.k].name}[${e.i}]: GPU ${e.x.toExponential(4)}, finite difference ${fd.toExponential(4)}`);
      expect(Math.abs(fd - e.x)).toBeLessThan(0.005 * Math.abs(e.x) + 5e-4 * gmax);
    }
    trainer.release();
    model.release();
  });

  test('training ranks held-out pairs; resumes exactly; the SEQ_CLS export loads back and scores (single and ensemble) with the same base', async () => {
    const c = config({});
    const { gpu, model, train, held } = await setup(c);
    const make = () => new RewardModelTrainer({ gpu, model, config: c, train, eval: held });
    const trainer = make();
    const before = await trainer.evaluatePairs();
    const steps = [];
    for (let s = 0; s < 6; s++) steps.push((await trainer.trainStep()).metrics);
    const after = await trainer.evaluatePairs();
    console.log('reward model loss per step:', steps.map((m) => m.loss.toFixed(3)).join(' '), 'held-out', before, after);
    expect(steps[5].loss).toBeLessThan(steps[0].loss);
    expect(after.eval_accuracy).toBe(1);
    expect(after.eval_margin).toBeGreaterThan(before.eval_margin + 0.1);
    for (const k of ['accuracy', 'margin', 'min_reward', 'mean_reward', 'max_reward', 'grad_norm', 'num_tokens']) expect(Number.isFinite(steps[5][k]), k).toBe(true);
    // resume: a checkpoint after 3 steps (LoRA, head and their Adam state) gives steps 4..6 exactly
    const again = make();
    for (let s = 0; s < 3; s++) await again.trainStep();
    const bytes = await saveCheckpoint(gpu, again, 'fp');
    again.release();
    const resumed = make();
    restoreCheckpoint(gpu, resumed, bytes, 'ckpt', 'fp');
    for (let s = 3; s < 6; s++) expect((await resumed.trainStep()).metrics.loss).toBeCloseTo(steps[s].loss, 5);

    // export: PEFT's SEQ_CLS form
    const files = await exportRewardAdapter(gpu, trainer.lora, await trainer.head.read(), 'stories260K');
    const cfg = JSON.parse(files.config);
    expect(cfg.task_type).toBe('SEQ_CLS');
    expect(cfg.modules_to_save).toEqual(['score']);
    expect(readSafetensors(files.weights, 'w').tensors.get(SCORE_WEIGHT_KEY)?.shape).toEqual([1, model.config.hiddenSize]);
    expect(() => parseRewardAdapter({ ...files, config: JSON.stringify({ ...cfg, task_type: 'CAUSAL_LM' }) }, model.config)).toThrow(/task_type "CAUSAL_LM".*SEQ_CLS/);

    // a reward_model entry scores prompt + completion like the trainer did
    const rows = held.map((e) => ({ prompt: e.prompt.ids, completion: e.chosen }));
    const want = await sequenceRewards(model, rows, trainer.lora, await trainer.head.read());
    const parsed = parseRewardAdapter(files, model.config, 'rm1');
    const other = parseRewardAdapter(await exportRewardAdapter(gpu, resumed.lora, await resumed.head.read(), 'stories260K'), model.config, 'rm2');
    const single = createRewardModelScorer(gpu, model, { name: 'reward_model', weight: 1, params: { adapters: 'rm1' } }, [{ source: 'rm1', parsed }]);
    const got = await single.score(rows);
    got.forEach((x, i) => expect(x).toBeCloseTo(want[i], 5));
    const ens = createRewardModelScorer(gpu, model, { name: 'reward_model', weight: 1, params: { adapters: 'rm1,rm2', reduce: 'mean_minus_std', std_coef: 0.5 } }, [
      { source: 'rm1', parsed }, { source: 'rm2', parsed: other },
    ]);
    const members = await ens.memberRewards(rows);
    const ensGot = await ens.score(rows);
    expect(ensGot).toEqual(reduceEnsemble(members, 'mean_minus_std', 0.5));
    // through the rewards scorer, from RewardItems with token ids; the base model's weights are the policy's own
    const scorer = createRewardScorer(
      [{ name: 'contains', weight: 1, params: { text: 'dog' } }, { name: 'reward_model', weight: 1, params: { adapters: 'rm1' } }],
      { maxCompletionLength: 16, rewardModels: new Map([[1, (items) => single.scoreItems(items)]]) },
    );
    const items = held.map((e) => ({ prompt: e.prompt.text, completion: ' dog', answer: '', row: {}, completionTokens: e.chosen.length, promptIds: e.prompt.ids, completionIds: e.chosen }));
    const scores = await scorer.score(items);
    expect(scorer.names).toEqual(['contains', 'reward_model']);
    scores.perFunc[1].forEach((x, i) => expect(x).toBeCloseTo(want[i], 5));
    single.release();
    ens.release();
    resumed.release();
    trainer.release();
    model.release();
  });
});
