// The SFT term inside GRPO (sft_coef, sft_column, sft_on) and the SFT run's statistics:
// - sft_on "zero_reward_groups" selects exactly the groups whose completions all got reward 0;
// - the combined step's gradient is the GRPO gradient plus sft_coef × the SFT gradient, each computed on its own
//   (at tiny shapes on the GPU, against the sum taken by hand), and its loss the GRPO loss plus sft_coef × the NLL;
// - the SFT step's mean_token_accuracy and entropy are TRL's, recomputed on the CPU from the model's logits.
import { describe, expect, test } from 'vitest';
import { testGpu } from '../gpu';
import { gpuTinyConfig, randomWeights } from '../model/tiny';
import { GpuTransformer } from '../../src/model/transformer';
import { LoraSet } from '../../src/model/lora';
import { AdamW } from '../../src/grpo/optimizer';
import { policyUpdate, type TrainSequence } from '../../src/grpo/policy_update';
import { crossEntropyGrads, type SftExample } from '../../src/grpo/sft';
import { referenceAnswer, sftTermExamples, sftTermGroups } from '../../src/grpo/sft_term';
import type { Tokenizer } from '../../src/model/tokenizer';
import type { PromptExample } from '../../src/grpo/rollout';
import { packRows, releaseBatch } from '../../src/model/logprobs';
import { defaultConfig, validateConfig } from '../../src/grpo/config';

const group = (rewards: number[]) => ({ completions: rewards.map((reward) => ({ reward })) });

describe('sft_on picks the groups', () => {
  test('"zero_reward_groups" keeps exactly the groups whose every completion got reward 0; "all" keeps every group', () => {
    const groups = [group([0, 0, 0]), group([0, 1, 0]), group([0.5, 0.5]), group([0, 0]), group([]), group([0, NaN])];
    expect(sftTermGroups(groups, 'zero_reward_groups')).toEqual([groups[0], groups[3]]);
    expect(sftTermGroups(groups, 'all')).toEqual(groups);
  });

  test('the reference answer is the answer column, or the named column of the row (a missing one is named)', () => {
    const p = { answer: '42', raw: { question: 'q', solution: 'so 42', n: 7 } };
    expect(referenceAnswer(p, null)).toBe('42');
    expect(referenceAnswer(p, 'solution')).toBe('so 42');
    expect(referenceAnswer(p, 'n')).toBe('7');
    expect(() => referenceAnswer(p, 'proof')).toThrow(/sft_column "proof": the row has no such column \(its columns: question, solution, n\)/);
  });

  test('the reference answers as examples: the column\'s text, then the stop token, cut at max_completion_length', () => {
    // one token per character (code point), stop token 2
    const tok = { eosIds: [2], encode: (t: string) => [...t].map((ch) => ch.charCodeAt(0)) } as unknown as Tokenizer;
    const p = (answer: string, solution: string): PromptExample => ({ text: 'q', ids: [1, 9], answer, raw: { solution } });
    const groups = [{ prompt: p('ab', 'xyz') }, { prompt: p('c', 'uvwxyz') }];
    const cache = new Map<PromptExample, number[]>();
    expect(sftTermExamples(groups, 'solution', tok, cache, 5)).toEqual([
      { prompt: [1, 9], answer: [120, 121, 122, 2] },
      { prompt: [1, 9], answer: [117, 118, 119, 120, 121] }, // cut: its start, no stop token
    ]);
    expect(sftTermExamples(groups, null, tok, new Map())).toEqual([{ prompt: [1, 9], answer: [97, 98, 2] }, { prompt: [1, 9], answer: [99, 2] }]);
    expect(cache.size).toBe(2);
  });

  test('config: sft_coef is GRPO\'s, refused with another algorithm; algorithm "sft" takes no tools', () => {
    expect(validateConfig({ ...defaultConfig(), sft_coef: 0.1, sft_on: 'zero_reward_groups', sft_column: 'solution' })).toEqual([]);
    expect(validateConfig({ ...defaultConfig(), algorithm: 'dpo', beta: 0.1, sft_coef: 0.1 }).join(' ')).toMatch(/sft_coef.*sft_loss_weight/);
    expect(validateConfig({ ...defaultConfig(), algorithm: 'sft' })).toEqual([]);
    expect(validateConfig({ ...defaultConfig(), algorithm: 'sft', tools_source: '[]' }).join(' ')).toMatch(/algorithm "sft"/);
    expect(validateConfig({ ...defaultConfig(), sft_coef: -1 }).join(' ')).toMatch(/sft_coef/);
  });
});

describe('the combined loss on the GPU (tiny model)', () => {
  test('gradient(GRPO + sft_coef × SFT) = gradient(GRPO) + sft_coef × gradient(SFT), loss likewise', async () => {
    const gpu = await testGpu();
    const mc = gpuTinyConfig({ vocabSize: 41 });
    const model = GpuTransformer.upload(gpu, mc, randomWeights(mc, 3));
    const seq = (i: number): TrainSequence => ({ prompt: [1, 2 + i, 3], completion: Array.from({ length: 2 + (i % 3) }, (_, j) => (i * 7 + j + 4) % 41), advantage: (i % 3) - 1, active: 2 + (i % 3) });
    const mbs = [[0, 1, 2, 3].map(seq)];
    const sft: SftExample[] = [{ prompt: [1, 5, 3], answer: [9, 10, 2] }, { prompt: [1, 6], answer: [11, 2] }];
    const coef = 0.3;
    /** grads after: 'grpo' the policy update alone, 'sft' the cross-entropy alone (scale 1), 'both' the update with the term */
    const grads = async (what: 'grpo' | 'sft' | 'both') => {
      const lora = new LoraSet(gpu, mc, { r: 2, alpha: 4, targetModules: ['q_proj', 'v_proj', 'down_proj'], useRslora: false });
      lora.initialize(11);
      for (const p of lora.pairs.values()) gpu.write(p.B, Float32Array.from({ length: p.B.size }, (_, i) => Math.cos(i + 2) * 0.1));
      const opt = new AdamW(gpu, lora.parameters(), { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, maxGradNorm: 1e9 });
      let loss: number;
      let sftLoss = NaN;
      if (what === 'sft') {
        opt.zeroGrads();
        const ce = await crossEntropyGrads(gpu, model, lora, [sft], () => 0, null, 1);
        loss = ce.loss;
      } else {
        const st = await policyUpdate(gpu, model, lora, opt, mbs, {
          lossType: 'grpo', maxCompletionLength: 8, numIterations: 1, temperature: 1, loss: { epsilon: 0.2, epsilonHigh: 0.2, beta: 0 },
          learningRate: 0, dropoutCounter: 0,
          ...(what === 'both' ? { extraGradients: async () => {
            const ce = await crossEntropyGrads(gpu, model, lora, [sft], () => 0, null, coef);
            sftLoss = ce.loss;
            return coef * ce.loss;
          } } : {}),
        });
        loss = st.loss;
      }
      const out: Float32Array[] = [];
      for (const p of lora.pairs.values()) out.push(await gpu.read(p.dA), await gpu.read(p.dB));
      opt.release();
      lora.release();
      return { out, loss, sftLoss };
    };
    const g = await grads('grpo');
    const s = await grads('sft');
    const both = await grads('both');
    expect(s.loss).toBeGreaterThan(0);
    expect(both.sftLoss).toBeCloseTo(s.loss, 5);
    expect(both.loss).toBeCloseTo(g.loss + coef * s.loss, 5);
    let sftNorm = 0;
    both.out.forEach((b, i) => b.forEach((x, j) => {
      const want = g.out[i][j] + coef * s.out[i][j];
      sftNorm += s.out[i][j] ** 2;
      expect(Math.abs(x - want), `tensor ${i} [${j}]`).toBeLessThan(1e-6 + 1e-4 * Math.abs(want));
    }));
    expect(Math.sqrt(sftNorm)).toBeGreaterThan(1e-4); // the SFT gradient is not zero: the sum is a real check
    model.release();
  });

  test('the SFT statistics are TRL\'s: argmax accuracy on answer tokens, entropy over every non-padding position', async () => {
    const gpu = await testGpu();
    const mc = gpuTinyConfig({ vocabSize: 23 });
    const model = GpuTransformer.upload(gpu, mc, randomWeights(mc, 5, 1.2));
    const lora = new LoraSet(gpu, mc, { r: 2, alpha: 4, targetModules: ['q_proj'], useRslora: false });
    lora.initialize(1);
    /** logits (T, V) of one sequence */
    const logitsOf = async (ids: number[]) => {
      const b = packRows(gpu, [{ prompt: ids, completion: [] }], mc.maxPositionEmbeddings);
      const a = model.forward(b.ids, b.positions, b.B, b.T, lora, null);
      const lt = model.logits(a.f);
      const out = await gpu.read(lt);
      gpu.release(lt);
      model.releaseActivations(a);
      releaseBatch(gpu, b);
      return out;
    };
    // the first example's answer is the model's own greedy continuation (every token its argmax), the second's
    // is not: the accuracy lies strictly between 0 and 1 and a wrong argmax read would show
    const greedy: number[] = [1, 4, 7];
    for (let j = 0; j < 3; j++) {
      const lg = await logitsOf(greedy);
      const row = lg.subarray((greedy.length - 1) * mc.vocabSize, greedy.length * mc.vocabSize);
      greedy.push(row.indexOf(Math.max(...row)));
    }
    const ex: SftExample[] = [{ prompt: [1, 4, 7], answer: greedy.slice(3) }, { prompt: [1, 9], answer: [5, 2] }];
    const ce = await crossEntropyGrads(gpu, model, lora, [ex], () => 0, null, 1, true);
    // the CPU: logits of the same packed batch
    const batch = packRows(gpu, ex.map((r) => ({ prompt: r.prompt, completion: r.answer })), mc.maxPositionEmbeddings);
    const act = model.forward(batch.ids, batch.positions, batch.B, batch.T, lora, null);
    const logitsT = model.logits(act.f);
    const logits = await gpu.read(logitsT);
    gpu.release(logitsT);
    model.releaseActivations(act);
    releaseBatch(gpu, batch);
    const V = mc.vocabSize;
    let correct = 0, answerTokens = 0, ent = 0, seen = 0, nll = 0;
    ex.forEach((r, b) => {
      const seqLen = r.prompt.length + r.answer.length;
      for (let t = 0; t < seqLen; t++) {
        const row = logits.subarray((b * batch.T + t) * V, (b * batch.T + t + 1) * V);
        const m = Math.max(...row);
        const z = row.reduce((a, x) => a + Math.exp(x - m), 0);
        const p = Array.from(row, (x) => Math.exp(x - m) / z);
        ent -= p.reduce((a, q) => a + (q > 0 ? q * Math.log(q) : 0), 0);
        seen++;
        const j = t - r.prompt.length + 1; // position t predicts answer token j
        if (j >= 0 && j < r.answer.length) {
          answerTokens++;
          nll -= Math.log(p[r.answer[j]]);
          if (row.indexOf(m) === r.answer[j]) correct++;
        }
      }
    });
    expect(ce.tokens).toBe(5);
    expect(correct).toBeGreaterThanOrEqual(3);
    expect(correct).toBeLessThan(5);
    expect(ce.loss).toBeCloseTo(nll / answerTokens, 4);
    expect(ce.stats!.seenTokens).toBe(seen);
    expect(ce.stats!.accuracy).toBeCloseTo(correct / answerTokens, 6);
    expect(ce.stats!.entropy).toBeCloseTo(ent / seen, 4);
    lora.release();
    model.release();
  });
});
