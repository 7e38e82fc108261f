// Qwen3.5's memory plans (the exact dry run of one GSM8K-like GRPO step: 4 prompts x 8 completions, prompt 192,
// completion 256, bf16 base, as `npm run bench` plans them): Qwen3.5-0.8B within 2.5 GiB, Qwen3.5-2B within 4 GiB; and the linear layers' decoding state is constant in the sequence length (it replaces their KV
// caches).
import { describe, expect, test } from 'vitest';
import { defaultConfig, type GrpoConfig } from '../../src/grpo/config';
import { planLayout } from '../../src/grpo/memory_plan';
import { GSM8K_STEP, PLAN_MODELS } from '../../src/bench/memory_plans';
import { parseHfConfig } from '../../src/model/config';
import { kvCacheBytes } from '../../src/model/decode_state';
import { gdnDecodeStateBytes } from '../../src/model/qwen35_linear_attention';

const GIB = 2 ** 30;

describe('Qwen3.5 memory plans', () => {
  test('Qwen3.5-0.8B: the GSM8K-like step fits 2.5 GiB (the layout choosePlan picks for that budget)', async () => {
    const m = PLAN_MODELS.find((x) => x.name === 'Qwen3.5-0.8B')!;
    const c = parseHfConfig(m.json, m.name);
    const grpo: GrpoConfig = { ...defaultConfig(), ...GSM8K_STEP };
    // one dry run of the layout choosePlan({ budgetBytes: 2.5 GiB }) chooses (measured: peak 2.092 GiB; 2.168 before the LM head chunks shared one buffer size), not the
    // whole search (minutes on a loaded machine)
    const layout = { generationPrompts: 1, rowsPerPass: 2, trimBetweenPhases: true, recompute: true };
    const plan = await planLayout(c, grpo, layout, { budgetBytes: m.targetGiB! * GIB, storage: { basePrecision: 'auto', fileDtype: 'bf16' } });
    const b = plan.breakdown;
    console.log(`${m.name}: peak ${(plan.peakBytes / GIB).toFixed(3)} GiB (weights ${(b.weights / GIB).toFixed(3)}, LoRA+Adam ${(b.loraAdam / GIB).toFixed(4)}, ` +
      `KV caches + linear states ${(b.kvCache / GIB).toFixed(3)}, activations ${(b.activations / GIB).toFixed(3)}), largest ${(plan.largestBufferBytes / GIB).toFixed(3)} GiB ` +
      `${plan.largestBufferLabel}, recompute ${plan.recompute}`);
    expect(plan.fits).toBe(true);
    expect(plan.peakBytes).toBeLessThanOrEqual(m.targetGiB! * GIB);
    // the dry run really planned the hybrid model: its decoding states are in the breakdown
    expect(b.kvCache).toBeGreaterThan(gdnDecodeStateBytes(c, 8));
  }, 300_000);

  test('Qwen3.5-2B: the GSM8K-like step fits 4 GiB (the layout choosePlan picks: one prompt and one row at a time, ' +
    'recomputation, idle buffers freed around each prefill, LM head chunks of 16 MiB)', async () => {
    const m = PLAN_MODELS.find((x) => x.name === 'Qwen3.5-2B')!;
    const c = parseHfConfig(m.json, m.name);
    const grpo: GrpoConfig = { ...defaultConfig(), ...GSM8K_STEP };
    const storage = { basePrecision: 'auto' as const, fileDtype: 'bf16' };
    const cut = { generationPrompts: 1, rowsPerPass: 1, trimBetweenPhases: true, recompute: true };
    // measured before this changes: 4.403 GiB (weights 3.506, KV 0.201, activations 0.684: the last vocabulary
    // chunk's own slice/logits/dlogits buffers, prefill intermediates held into the MLP, decode buffers held through
    // the next prefill, the final norm held through every layer, a 1024 MiB bucket for the 970 MiB embedding table)
    const at64 = await planLayout(c, grpo, cut, { budgetBytes: m.targetGiB! * GIB, storage });
    const plan = await planLayout(c, grpo, { ...cut, lmHeadChunkBytes: 16 * 2 ** 20 }, { budgetBytes: m.targetGiB! * GIB, storage });
    const b = plan.breakdown;
    console.log(`${m.name}: peak ${(plan.peakBytes / GIB).toFixed(3)} GiB (64 MiB chunks: ${(at64.peakBytes / GIB).toFixed(3)}) (weights ` +
      `${(b.weights / GIB).toFixed(3)}, LoRA+Adam ${(b.loraAdam / GIB).toFixed(4)}, KV caches + linear states ${(b.kvCache / GIB).toFixed(3)}, ` +
      `activations ${(b.activations / GIB).toFixed(3)})`);
    expect(at64.fits).toBe(false);
    expect(plan.fits).toBe(true);
    expect(plan.peakBytes).toBeLessThanOrEqual(4 * GIB);
    // the bf16 weights alone are 3.5 GiB: what is left for everything else is under half a GiB
    expect(b.weights).toBeGreaterThan(3.5 * GIB);
  }, 300_000);

  test('the linear layers\' decoding state does not grow with the sequence; full layers\' KV caches do', () => {
    const c = parseHfConfig(PLAN_MODELS.find((x) => x.name === 'Qwen3.5-0.8B')!.json);
    const state = gdnDecodeStateBytes(c, 32);
    // 18 linear layers x 32 rows x (conv 2 x 6144 x 3 + state 16 x 128 x 128) floats
    expect(state).toBe(18 * 32 * (2 * 6144 * 3 + 16 * 128 * 128) * 4);
    const kv = (T: number) => kvCacheBytes(c, 32, T, 'bf16') - state;
    expect(kv(512)).toBe(2 * kv(256)); // 6 full layers' caches, linear in T
    expect(kv(256)).toBe((2 * 32 * 256 * 6 * 2 * 256 * 4) / 2);
  });
});
