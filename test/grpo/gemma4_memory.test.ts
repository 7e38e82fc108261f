// Gemma 4's memory floor (src/grpo/gemma4_memory.ts) and KV-cache count (decode_state.ts kvCacheBytes): only the
// non-shared layers own caches, each with its own kv heads and head size (rings on sliding layers); the PLE table
// counted on its own and left out of the GPU's total when kept on the host; LoRA + Adam only on the projections a
// layer owns. Checked by hand on the tiny config, and the bench's Gemma-4-E2B row (Hub config) against E2B's
// sizes: its exact plan keeps the PLE and embedding tables in host memory and, on a short step, meets 4 GiB.
import { describe, expect, test } from 'vitest';
import { kvCacheBytes } from '../../src/model/decode_state';
import { gemma4MemoryFloor } from '../../src/grpo/gemma4_memory';
import { defaultConfig } from '../../src/grpo/config';
import { parseHfConfig } from '../../src/model/config';
import { gemma4Row, GSM8K_STEP, PLAN_MODELS } from '../../src/bench/memory_plans';
import { gemma4TinyConfig, K_EQ_V } from '../model/gemma4_fixtures';

const GIB = 2 ** 30;

describe('gemma4 memory', () => {
  test('KV caches: non-shared layers only, their own head sizes, rings on sliding layers', () => {
    // layers S S F S S F, the last three shared: caches on 0, 1 (window 3, HS 8, 1 kv head) and 2 (HS 16)
    const c = gemma4TinyConfig();
    expect(kvCacheBytes(c, 5, 16, 'f32')).toBe(2 * 5 * (3 * 8 + 3 * 8 + 16 * 16) * 4);
    expect(kvCacheBytes(c, 5, 16, 'bf16')).toBe(kvCacheBytes(c, 5, 16, 'f32') / 2);
    // k_eq_v full layers have 2 kv heads
    expect(kvCacheBytes(gemma4TinyConfig(K_EQ_V), 1, 2, 'f32')).toBe(2 * (2 * 8 + 2 * 8 + 2 * 2 * 16) * 4);
  });

  test('floor: PLE table on its own, LoRA + Adam on owned projections, the bench\'s E2B row', async () => {
    const grpo = { ...defaultConfig(), ...GSM8K_STEP, lora_r: 2, lora_target_modules: ['k_proj' as const, 'v_proj' as const] };
    const c = gemma4TinyConfig();
    const f = gemma4MemoryFloor(c, grpo, { storage: { basePrecision: 'f32' } });
    expect(f.pleTable).toBe(64 * 6 * 4 * 4); // vocab 64 x L*P (6 * 4), f32
    // k/v on layers 0..2 only (3..5 share): sliding k/v (8, 16), full (16, 16)
    expect(f.loraAdam).toBe(16 * 2 * (2 * (8 + 16) * 2 + 2 * (16 + 16))); // 2 modules on 2 sliding, 2 on the full layer
    expect(f.total).toBe(f.weights + f.pleTable + f.loraAdam + f.kvCache);
    expect(gemma4MemoryFloor(c, grpo, { storage: { basePrecision: 'f32' }, pleOnHost: true }).total).toBe(f.total - f.pleTable);

    const e2b = PLAN_MODELS.find((m) => m.name === 'Gemma-4-E2B')!;
    const config = parseHfConfig(e2b.json, 'Gemma-4-E2B config');
    const g = { ...defaultConfig(), ...GSM8K_STEP };
    const storage = { basePrecision: 'auto' as const, fileDtype: 'bf16' };
    const onGpu = gemma4MemoryFloor(config, g, { storage });
    const onHost = gemma4MemoryFloor(config, g, { storage, pleOnHost: true });
    expect(onGpu.basePrecision).toBe('bf16');
    expect(onGpu.pleTable).toBe(262144 * 35 * 256 * 2);
    // 32 rows x 448 positions; 15 non-shared layers (full at 4, 9, 14: HS 512; the rest HS 256, window 512 > 448);
    // kv_precision "auto" stores them in bf16 for a 16-bit base
    expect(onGpu.kvPrecision).toBe('bf16');
    expect(onGpu.kvCache).toBe(2 * 32 * 448 * (12 * 256 + 3 * 512) * 2);
    console.log(`Gemma-4-E2B floor: weights ${((onGpu.weights + onGpu.pleTable) / GIB).toFixed(2)} GiB (PLE ${(onGpu.pleTable / GIB).toFixed(2)}), ` +
      `LoRA+Adam ${(onGpu.loraAdam / GIB).toFixed(3)}, KV ${(onGpu.kvCache / GIB).toFixed(2)}; total ${(onGpu.total / GIB).toFixed(2)} GiB, ` +
      `PLE on host ${(onHost.total / GIB).toFixed(2)} GiB`);
    expect(onGpu.total).toBeGreaterThan(4 * GIB);
    // the row on a shorter step (the bench's GSM8K step takes minutes of dry runs over ten layouts here)
    const short = { ...g, max_prompt_length: 24, max_completion_length: 8 };
    const row = await gemma4Row(e2b.name, config, short, e2b.targetGiB);
    console.log(`Gemma-4-E2B row (prompt 24, completion 8): ${row.floor!.note}`);
    expect(row.floor!.ple_on_host.weights).toBe(onHost.weights);
    // the bf16 weights without the PLE table already pass 4 GiB: the plan keeps the embedding table (tied to the LM
    // head, 262,144 x 1536) in host memory too, and the GPU holds the rest
    expect(onHost.weights).toBeGreaterThan(4 * GIB);
    expect(onHost.embedTable).toBe(262144 * 1536 * 2);
    expect(onHost.weights - onHost.embedTable).toBeLessThan(4 * GIB);
    expect(row.after!.base).toBe('bf16 (PLE and embedding tables in host memory)');
    expect(row.after!.embed_on_host).toBe(true);
    expect(row.after!.breakdown!.weights).toBe(onHost.weights - onHost.embedTable);
    expect(row.after!.peak_bytes).toBeGreaterThan(onHost.total - onHost.embedTable);
    expect(row.after!.largest_buffer_bytes).toBeLessThanOrEqual(GIB);
    expect(row.meets_target).toBe(true);
    expect(row.after!.peak_bytes).toBeLessThanOrEqual(4 * GIB);
    expect(row.floor!.note).toMatch(/^exact plan: /);
    expect(row.floor!.note).not.toMatch(/needs 8-bit weights/);
  }, 600_000);
});
