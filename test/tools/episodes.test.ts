// Tool-using and multi-turn GRPO steps through the real engine (stories260K on the WebGPU adapter, the
// real sandbox): inserted tokens are exactly the rendered tool results / observations and carry mask 0;
// the model's tokens' log-probs, computed with the inserted tokens in context, equal a CPU reference
// forward of the whole sequence; the step's entropy averages the model's tokens only; environment rewards
// are the sums of the episodes' step rewards; several turns per episode.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { testGpu } from '../gpu';
import { loadStories, storyRows, wordConfig } from '../grpo/fixtures';
import { GpuTransformer } from '../../src/model/transformer';
import { completionLogprobs } from '../../src/model/logprobs';
import { transformerForward } from '../../src/reference/transformer';
import { preparePrompts } from '../../src/grpo/prompts';
import { createRewardScorer } from '../../src/grpo/rewards_scorer';
import { GrpoTrainer, type StepReport } from '../../src/grpo/trainer';
import { createRolloutTools } from '../../src/grpo/tools/setup';
import type { RolloutTools, Completion } from '../../src/grpo/rollout';
import type { LoadedModel } from '../../src/model/load';
import type { GrpoConfig } from '../../src/grpo/config';
import type { GpuRuntime } from '../../src/gpu/runtime';

let gpu: GpuRuntime;
let loaded: LoadedModel;
let model: GpuTransformer;
const cleanups: (() => void)[] = [];

beforeAll(async () => {
  gpu = await testGpu();
  loaded = await loadStories();
  model = GpuTransformer.upload(gpu, loaded.config, loaded.weights);
});
afterAll(() => {
  cleanups.forEach((f) => f());
  model?.release();
});

async function step(config: GrpoConfig, rows = storyRows('dog')): Promise<{ report: StepReport; tools: RolloutTools }> {
  const tools = (await createRolloutTools(config, loaded))!;
  cleanups.push(() => tools.setup.runner.dispose());
  const scorer = createRewardScorer(config.reward_funcs, { maxCompletionLength: config.max_completion_length });
  cleanups.push(() => scorer.dispose());
  const train = preparePrompts(rows, loaded, config).examples;
  const trainer = new GrpoTrainer({ gpu, model, tokenizer: loaded.tokenizer, config, train, eval: [], scorer, tools });
  cleanups.push(() => trainer.release());
  return { report: await trainer.trainStep(), tools };
}

/** maximal runs of mask-0 tokens */
function insertedSpans(c: Completion): number[][] {
  const spans: number[][] = [];
  let cur: number[] | null = null;
  c.modelMask!.forEach((m, j) => {
    if (m === 0) (cur ??= []).push(c.trainIds[j]);
    else if (cur) {
      spans.push(cur);
      cur = null;
    }
  });
  if (cur) spans.push(cur);
  return spans;
}

describe('tool-using GRPO step', () => {
  test('results inserted as rendered and masked; log-probs match the CPU reference; entropy over model tokens only', async () => {
    // stories260K writes " the" and "." all the time: with them as markers, its sentences become calls of
    // the one tool (body {"input": ...}), or malformed calls ("." without " the") that get an error
    const config = wordConfig({
      num_generations: 4, prompts_per_step: 2, max_completion_length: 40, mask_truncated_completions: false,
      tools_source: `[{ name: 'count', description: 'letters', parameters: { type: 'object', properties: { input: { type: 'string' } }, required: ['input'] }, run: ({ input }) => input.length }]`,
      tool_call_open: ' the', tool_call_close: '.', tool_result_template: ' [{result}]', max_tool_calling_iterations: 3,
    });
    const { report, tools } = await step(config);
    const comps = report.groups.flatMap((g) => g.completions.map((c) => ({ c, prompt: g.prompt.ids })));
    const fmt = tools.setup.format;
    let calls = 0;
    let inserted = 0;
    for (const { c } of comps) {
      expect(c.modelMask).toHaveLength(c.trainIds.length);
      calls += c.episode!.toolCalls;
      expect(c.episode!.toolCalls).toBeLessThanOrEqual(3);
      const expected = c.turns!.flatMap((t) => (t.kind === 'tool_result' ? [fmt.toolResult(t.text)] : t.kind === 'tool_error' ? [fmt.toolResult(`Error: ${t.text}`)] : []));
      const spans = insertedSpans(c);
      expect(spans.length).toBeLessThanOrEqual(expected.length);
      spans.forEach((span, k) => {
        const want = loaded.tokenizer.encode(expected[k], { addBos: false });
        if (k === spans.length - 1 && c.truncated) expect(want.slice(0, span.length)).toEqual(span);
        else expect(span).toEqual(want);
        inserted += span.length;
      });
      // every successful call's result is the tool's value
      for (const t of c.turns!) if (t.kind === 'tool_result') expect(Number(t.text)).toBeGreaterThan(0);
    }
    expect(calls).toBeGreaterThan(0);
    expect(inserted).toBeGreaterThan(0);
    expect(report.metrics['tools/call_frequency']).toBeCloseTo(calls / comps.length, 10);
    expect(report.metrics['tools/failure_frequency']).toBeGreaterThanOrEqual(0);
    // the token inspector's traces carry each completion's mask (inserted tokens shown apart on the page)
    const traced = report.traces.flatMap((g, gi) => g.map((t, ci) => ({ t, c: report.groups[gi].completions[ci] }))).filter((x) => x.t !== null);
    expect(traced.length).toBeGreaterThan(0);
    for (const { t, c } of traced) expect(t!.modelMask).toEqual(c.modelMask!.slice(0, t!.tokens.length));
    expect(traced.some(({ t }) => t!.modelMask!.includes(0))).toBe(true);

    // at step 1 the LoRA update comes after the forward, and LoRA B starts at zero: the policy is the base model
    const rows = comps.map(({ c, prompt }) => ({ prompt, completion: c.trainIds }));
    const gpuLp = await completionLogprobs(model, rows, null, config.temperature);
    let entModel = 0;
    let nModel = 0;
    let entAll = 0;
    let nAll = 0;
    const V = loaded.config.vocabSize;
    rows.forEach((r, i) => {
      const seq = [...r.prompt, ...r.completion];
      const ref = transformerForward(loaded.config, loaded.weights, seq, 1, seq.length);
      r.completion.forEach((id, j) => {
        const t = r.prompt.length + j - 1;
        const row = ref.logits.subarray(t * V, (t + 1) * V);
        let max = -Infinity;
        for (const x of row) max = Math.max(max, x);
        let z = 0;
        for (const x of row) z += Math.exp(x - max);
        const lp = row[id] - max - Math.log(z);
        let ent = 0;
        for (const x of row) {
          const p = Math.exp(x - max) / z;
          ent -= p * (x - max - Math.log(z));
        }
        if (comps[i].c.modelMask![j] === 1) {
          expect(Math.abs(gpuLp.logprobs[i][j] - lp), `row ${i} token ${j}`).toBeLessThan(2e-3);
          entModel += ent;
          nModel++;
        }
        entAll += ent;
        nAll++;
      });
    });
    expect(report.metrics.entropy).toBeCloseTo(entModel / nModel, 3);
    expect(Math.abs(entAll / nAll - entModel / nModel)).toBeGreaterThan(1e-3);
  }, 300_000);
});

describe('multi-turn environment (guessing game)', () => {
  test('episodes of several turns: observations inserted and masked, rewards summed from the steps', async () => {
    const env = readFileSync('public/datasets/guess_number.env.js', 'utf8');
    const data = readFileSync('public/datasets/guess_number.jsonl', 'utf8').trim().split('\n').slice(0, 2)
      .map((l) => JSON.parse(l) as { prompt: string; answer: string })
      .map((r, i) => ({ prompt: r.prompt, answer: r.answer, line: i + 1, raw: r as unknown as Record<string, unknown> }));
    const config = wordConfig({
      num_generations: 4, prompts_per_step: 2, max_completion_length: 200, mask_truncated_completions: false,
      env_source: env, turn_end_marker: '.', max_turns: 3, env_reward_weight: 1,
      reward_funcs: [{ name: 'contains', weight: 0, params: {} }],
    });
    const { report, tools } = await step(config, data);
    expect(report.rewardNames).toContain('environment');
    const fmt = tools.setup.format;
    let multi = 0;
    for (const g of report.groups) {
      const secret = Number(g.prompt.answer);
      for (const c of g.completions) {
        const ep = c.episode!;
        const turns = c.turns!;
        expect(ep.turnCount).toBeGreaterThanOrEqual(1);
        expect(ep.turnCount).toBeLessThanOrEqual(3);
        if (ep.turnCount >= 2) multi++;
        // replay the environment on the model's turns: same observations and rewards
        let reward = 0;
        const obs = [turns[0]];
        expect(turns[0]).toEqual({ kind: 'observation', text: 'I am thinking of a number from 1 to 20. Guess it.', reward: null });
        for (let k = 1; k < turns.length; k++) {
          const t = turns[k];
          if (t.kind !== 'model') continue;
          const next = turns[k + 1];
          if (!next || next.kind !== 'observation') continue;
          const m = /\d+/.exec(t.text);
          const want = !m ? ['Say a number from 1 to 20.', -0.1] : Number(m[0]) === secret ? ['Correct!', 1] : [Number(m[0]) < secret ? 'Higher.' : 'Lower.', -0.1];
          expect([next.text, next.reward]).toEqual(want);
          reward += want[1] as number;
          obs.push(next);
        }
        expect(ep.envReward).toBeCloseTo(reward, 10);
        expect(c.reward).toBeCloseTo(reward, 10);
        // per model turn: the step reward after it (step_advantage "per_turn_discounted") and its tokens
        const stepRewards = turns.flatMap((t, k) => (t.kind !== 'model' ? [] : [turns[k + 1]?.kind === 'observation' ? (turns[k + 1] as { reward: number | null }).reward : null]));
        expect(ep.turnRewards).toEqual(stepRewards);
        expect(ep.turnTokens).toHaveLength(ep.turnCount);
        expect(ep.turnTokens.reduce((a, b) => a + b, 0)).toBe(c.modelMask!.reduce((a, b) => a + b, 0));
        // inserted spans: the first observation, then each observation that did not end the episode
        const spans = insertedSpans(c);
        const expected = obs.filter((_o, k) => k === 0 || !(ep.envDone && k === obs.length - 1)).map((o) => fmt.observation((o as { text: string }).text));
        spans.forEach((span, k) => {
          const want = loaded.tokenizer.encode(expected[k], { addBos: false });
          if (k === spans.length - 1 && c.truncated) expect(want.slice(0, span.length)).toEqual(span);
          else expect(span).toEqual(want);
        });
        expect(spans.length).toBeGreaterThanOrEqual(1);
      }
    }
    expect(multi).toBeGreaterThan(0);
    expect(report.metrics['turns/mean']).toBeGreaterThan(1);
    expect(Number.isFinite(report.metrics['env/reward_mean'])).toBe(true);
  }, 300_000);
});
