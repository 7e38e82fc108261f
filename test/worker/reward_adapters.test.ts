// The page's reward adapters (src/worker/reward_adapters.ts): reward_model entries name saved runs; a name the
// page did not send, or a kept adapter that is not a reward adapter, stops the run before anything is uploaded,
// naming the entry and the run.
import { describe, expect, test } from 'vitest';
import { parseRunRewardAdapters, rewardAdapterSpecs } from '../../src/worker/reward_adapters';
import { defaultConfig, type GrpoConfig } from '../../src/grpo/config';
import { writeSafetensors } from '../../src/model/safetensors';
import { SCORE_WEIGHT_KEY } from '../../src/model/score_head';
import { gpuTinyConfig } from '../model/tiny';

const mc = gpuTinyConfig();
const C = mc.hiddenSize;

/** A PEFT adapter of r 2 on q_proj of every layer, as SEQ_CLS with a head (or CAUSAL_LM without). */
function files(seqCls: boolean) {
  const t = new Map<string, { shape: number[]; data: Float32Array }>();
  for (let l = 0; l < mc.numLayers; l++) {
    t.set(`base_model.model.model.layers.${l}.self_attn.q_proj.lora_A.weight`, { shape: [2, C], data: new Float32Array(2 * C).fill(0.1) });
    t.set(`base_model.model.model.layers.${l}.self_attn.q_proj.lora_B.weight`, { shape: [mc.numHeads * mc.headDim, 2], data: new Float32Array(mc.numHeads * mc.headDim * 2) });
  }
  if (seqCls) t.set(SCORE_WEIGHT_KEY, { shape: [1, C], data: new Float32Array(C).fill(0.5) });
  const config = { peft_type: 'LORA', task_type: seqCls ? 'SEQ_CLS' : 'CAUSAL_LM', r: 2, lora_alpha: 4, target_modules: ['q_proj'], modules_to_save: seqCls ? ['score'] : null };
  return { weights: writeSafetensors(t, { format: 'pt' }), config: JSON.stringify(config) };
}

const config = (adapters: string): GrpoConfig => ({
  ...defaultConfig(),
  reward_funcs: [{ name: 'contains', weight: 1, params: {} }, { name: 'reward_model', weight: 1, params: { adapters } }],
});

describe('reward adapters sent by the page', () => {
  test('each entry gets its named adapters, parsed, with their LoRA specs for the plan', () => {
    const parsed = parseRunRewardAdapters(config('rm a, rm b'), mc, new Map([['rm a', files(true)], ['rm b', files(true)]]));
    expect([...parsed.keys()]).toEqual([1]);
    expect(parsed.get(1)!.map((a) => a.source)).toEqual(['saved run "rm a"', 'saved run "rm b"']);
    expect(parsed.get(1)![0].parsed.head[0]).toBeCloseTo(0.5, 6);
    expect(rewardAdapterSpecs(parsed).get(1)![0]).toMatchObject({ r: 2, alpha: 4, targetModules: ['q_proj'] });
  });
  test('a missing name, and an adapter that is not a reward adapter, are refused by name', () => {
    expect(() => parseRunRewardAdapters(config('rm a'), mc, new Map())).toThrow(/reward_funcs\[1\] \(reward_model\): no kept adapter of a saved run named "rm a"/);
    expect(() => parseRunRewardAdapters(config('policy'), mc, new Map([['policy', files(false)]]))).toThrow(/saved run "policy": adapter_config.json has task_type "CAUSAL_LM"/);
    const noHead = { ...files(true), config: JSON.stringify({ ...JSON.parse(files(true).config), modules_to_save: null }) };
    expect(() => parseRunRewardAdapters(config('x'), mc, new Map([['x', noHead]]))).toThrow(/must list "score" in modules_to_save/);
    // a head of another width, or with a NaN
    const bad = (data: Float32Array, shape: number[]) => {
      const f = files(true);
      return { ...f, weights: writeSafetensors(new Map([[SCORE_WEIGHT_KEY, { shape, data }]]), { format: 'pt' }) };
    };
    expect(() => parseRunRewardAdapters(config('w'), mc, new Map([['w', bad(new Float32Array(C + 1), [1, C + 1])]]))).toThrow(/has shape \[1, 13\]; a reward head for this model is \[1, 12\]/);
    const nan = new Float32Array(C);
    nan[3] = NaN;
    expect(() => parseRunRewardAdapters(config('n'), mc, new Map([['n', bad(nan, [1, C])]]))).toThrow(/holds NaN at index 3/);
  });
});
