// LoRA dropout draws one mask per (step, iteration, micro-batch, layer, module) of a run: the counter the
// policy update gives each training forward (dropoutForwardCounter) and the per-module mask the model derives
// from it (moduleMask) must never name the same mask twice for realistic runs: steps past 1024, more than
// 64 iterations or micro-batches, layers past 128. The masks themselves (the CPU reference, which the GPU
// kernel matches: test/kernels.test.ts) differ where the old 32-bit counter made them equal.
import { describe, expect, test } from 'vitest';
import { dropoutForwardCounter } from '../../src/grpo/policy_update';
import { moduleMask } from '../../src/model/transformer';
import { keepScale } from '../../src/reference/dropout';
import type { LoraModule } from '../../src/model/lora';

const MODULES: LoraModule[] = ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'];
const SEED = 0x5bd1e995;

function mask(step: number, it: number, m: number, iterations: number, microBatches: number, layer: number, module: LoraModule) {
  return moduleMask({ p: 0.1, seed: SEED, counter: dropoutForwardCounter(step, it, m, iterations, microBatches) }, layer, module);
}

describe('LoRA dropout masks', () => {
  test('no two (step, iteration, micro-batch, layer, module) share a mask', () => {
    const K = 66; // iterations, more than 64
    const M = 66; // micro-batches, more than 64
    const seen = new Map<string, string>();
    for (const step of [0, 1, 1023, 1024, 1025, 2 ** 31 + 5]) {
      for (let it = 0; it < K; it++) {
        for (let m = 0; m < M; m++) {
          for (const layer of [0, 1, 128]) {
            for (const module of MODULES) {
              const key = JSON.stringify(mask(step, it, m, K, M, layer, module));
              const who = `step ${step} iteration ${it} micro-batch ${m} layer ${layer} ${module}`;
              const before = seen.get(key);
              if (before) expect.fail(`${who} draws the mask of ${before}`);
              seen.set(key, who);
            }
          }
        }
      }
    }
    expect(seen.size).toBe(6 * K * M * 3 * MODULES.length);
  });

  test('the masks the old counter made equal differ', () => {
    const bits = (mk: ReturnType<typeof mask>) => Array.from({ length: 256 }, (_, i) => (keepScale(i, mk) > 0 ? 1 : 0)).join('');
    // 1024 steps apart
    expect(bits(mask(1024, 0, 0, 1, 1, 0, 'q_proj'))).not.toBe(bits(mask(0, 0, 0, 1, 1, 0, 'q_proj')));
    // micro-batch 64 of iteration 0 against micro-batch 0 of iteration 1
    expect(bits(mask(3, 0, 64, 2, 65, 0, 'v_proj'))).not.toBe(bits(mask(3, 1, 0, 2, 65, 0, 'v_proj')));
    // iteration 64 of a step against iteration 0 of the next
    expect(bits(mask(3, 64, 0, 65, 1, 2, 'o_proj'))).not.toBe(bits(mask(4, 0, 0, 65, 1, 2, 'o_proj')));
    // and each mask drops about p of 256 elements (a sanity check that the masks are real)
    const dropped = bits(mask(7, 1, 2, 3, 4, 1, 'down_proj')).split('').filter((b) => b === '0').length;
    expect(dropped).toBeGreaterThan(8);
    expect(dropped).toBeLessThan(48);
  });
});
