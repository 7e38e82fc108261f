// The runtime's cost counters (dispatches, readbacks, storage bytes bound by access, the per-kernel cost log)
// count what they claim, and decode_costs (src/bench/decode_costs.ts, counted on a dry runtime) counts the
// dispatches and readbacks a real adapter makes for the same decode steps.
import { describe, expect, test } from 'vitest';
import { testGpu } from './gpu';
import { parseHfConfig } from '../src/model/config';
import { GpuTransformer } from '../src/model/transformer';
import { generate } from '../src/model/generate';
import { randomWeights } from '../src/bench/model_bench';
import { decodeCost } from '../src/bench/decode_costs';

describe('runtime cost counters', () => {
  test('a known sequence of dispatches and one read gives known counts', async () => {
    const gpu = await testGpu();
    const spec = {
      name: 'cost_counter_probe',
      code: '@group(0) @binding(1) var<storage, read> x: array<f32>;\n@group(0) @binding(2) var<storage, read_write> y: array<f32>;\n' +
        '@compute @workgroup_size(1) fn main() { y[0] = y[0] + x[9]; }',
      buffers: ['read' as const, 'read_write' as const],
      hasParams: false,
    };
    const x = gpu.upload(Array.from({ length: 10 }, (_, i) => i), [10], 'probe.x');
    const y = gpu.zeros([3], 'probe.y');
    await gpu.sync();
    const c0 = { d: gpu.dispatchCount, r: gpu.readbackCount, br: gpu.boundReadBytes, brw: gpu.boundReadWriteBytes };
    gpu.startCostLog();
    gpu.dispatch(spec, { buffers: [x, y], workgroups: [1] });
    gpu.dispatch(spec, { buffers: [x, y], workgroups: [1] });
    gpu.dispatch(spec, { buffers: [x, y], workgroups: [0] }); // an empty grid records nothing and counts nothing
    const log = gpu.stopCostLog();
    gpu.dispatch(spec, { buffers: [x, y], workgroups: [1] }); // after the log: counted, not logged
    const out = await gpu.read(y);
    expect(out[0]).toBe(27); // the three dispatches ran
    expect(gpu.dispatchCount - c0.d).toBe(3);
    expect(gpu.readbackCount - c0.r).toBe(1);
    expect(gpu.boundReadBytes - c0.br).toBe(3 * 40);
    expect(gpu.boundReadWriteBytes - c0.brw).toBe(3 * 12);
    expect(log).toEqual([{
      kernel: 'cost_counter_probe', dispatches: 2, readBytes: 80, readWriteBytes: 24,
      buffers: [{ label: 'probe.x', bytes: 40, access: 'read' }, { label: 'probe.y', bytes: 12, access: 'read_write' }],
    }]);
    gpu.release(x, y);
  });

  test('decode_costs on a dry runtime counts the dispatches and readbacks of real decode steps', async () => {
    const gpu = await testGpu();
    const config = parseHfConfig({
      model_type: 'llama', architectures: ['LlamaForCausalLM'], hidden_size: 64, intermediate_size: 128, num_hidden_layers: 2,
      num_attention_heads: 4, num_key_value_heads: 2, vocab_size: 256, max_position_embeddings: 256, tie_word_embeddings: true, torch_dtype: 'bfloat16',
    }, 'tiny config');
    const storage = { basePrecision: 'bf16' as const, fileDtype: 'bf16' };
    const B = 2;
    const [positions, steps] = [24, 16];
    const dry = await decodeCost('tiny', config, B, { positions, steps, storage, adapter: { isSoftware: gpu.adapter.isSoftware, features: gpu.adapter.features } });
    // the same generate() calls on this adapter, with a stop id that cannot be sampled (outside the vocabulary):
    // the readback cadence depends only on there being one
    const model = GpuTransformer.upload(gpu, config, randomWeights(config, 2), storage);
    const prompts = Array.from({ length: B }, () => Array.from({ length: positions - steps }, (_, j) => 1 + (j % 255)));
    const run = (n: number) => generate(model, prompts, { maxNewTokens: n, temperature: 1, topK: 0, topP: 1, seed: 1, stopIds: [100000], lora: null });
    const c = () => ({ d: gpu.dispatchCount, r: gpu.readbackCount, br: gpu.boundReadBytes });
    await run(1); // compiles the pipelines
    const a0 = c();
    await run(1);
    const a1 = c();
    await run(1 + steps);
    const a2 = c();
    model.release();
    const per = (k: 'd' | 'r' | 'br') => (a2[k] - a1[k] - (a1[k] - a0[k])) / steps;
    expect(dry.dispatches_per_step).toBe(per('d'));
    expect(dry.readbacks_per_step).toBe(per('r'));
    expect(dry.readbacks_per_step).toBe(1 / 16); // generate() checks stop ids every 16 steps
    expect(dry.bound_read_bytes_per_token).toBe(per('br') / B);
    expect(dry.kernels.reduce((a, k) => a + k.dispatches, 0)).toBe(dry.dispatches_per_step);
    // the model of bytes read: the embedding gather reads B rows of its (V, C) bf16 table, not the table, and each
    // layer reads its bf16 K and V caches (B, positions, NKV, HS) once, however many attention_decode passes bind them
    const gatherUnread = 256 * 64 * 2 - B * 64 * 2;
    const attention = dry.kernels.find((k) => k.kernel.startsWith('attention_decode'))!;
    const caches = 2 * B * positions * 2 * 16 * 2;
    const attentionUnread = (attention.dispatches - 2) * caches;
    expect(attention.dispatches).toBeGreaterThanOrEqual(2);
    expect(dry.bound_read_bytes_per_token - dry.modeled_read_bytes_per_token).toBeCloseTo((gatherUnread + attentionUnread) / B, 6);
    expect(dry.weight_bytes).toBeGreaterThan(0);
    expect(dry.floor_bytes_per_token).toBe(dry.weight_bytes / B);
  }, 120_000);
});
