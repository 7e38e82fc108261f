// PEFT adapter export/import: file layout, key names, shapes, the rotate-half permutation for llama2.c
// models, a lossless round trip, and refusals that name what does not fit.
import { describe, expect, test } from 'vitest';
import { testGpu } from '../gpu';
import { gpuTinyConfig as tinyConfig } from './tiny';
import { LoraSet, type LoraModule } from '../../src/model/lora';
import { exportPeftAdapter, parsePeftAdapter, createLoraFromAdapter } from '../../src/model/peft_adapter';
import { parseSafetensorsHeader, readSafetensors } from '../../src/model/safetensors';
import { permuteForHalfRope } from '../../src/model/llama2c';
import { Rng, randn } from '../../src/util/random';
import type { ModelConfig } from '../../src/model/config';

const TARGETS: LoraModule[] = ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'];

async function randomLora(c: ModelConfig, targets = TARGETS) {
  const gpu = await testGpu();
  const lora = new LoraSet(gpu, c, { r: 2, alpha: 4, targetModules: targets, useRslora: false });
  const rng = new Rng(3);
  for (const p of lora.pairs.values()) {
    gpu.write(p.A, randn(p.A.size, rng));
    gpu.write(p.B, randn(p.B.size, rng));
  }
  return { gpu, lora };
}

describe('PEFT adapter', () => {
  test('export writes PEFT keys, shapes, metadata and adapter_config.json', async () => {
    const c = tinyConfig();
    const { gpu, lora } = await randomLora(c);
    const files = await exportPeftAdapter(gpu, lora, 'HuggingFaceTB/SmolLM2-135M', 0.05);
    const header = parseSafetensorsHeader(files.weights, 'adapter_model.safetensors');
    expect(header.metadata).toEqual({ format: 'pt' });
    const names = header.entries.map((e) => e.name);
    expect(names).toContain('base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight');
    expect(names).toContain('base_model.model.model.layers.1.mlp.down_proj.lora_B.weight');
    expect(names.length).toBe(2 * 7 * c.numLayers);
    const qA = header.entries.find((e) => e.name.endsWith('layers.0.self_attn.q_proj.lora_A.weight'))!;
    expect(qA.shape).toEqual([2, c.hiddenSize]);
    const downB = header.entries.find((e) => e.name.endsWith('layers.0.mlp.down_proj.lora_B.weight'))!;
    expect(downB.shape).toEqual([c.hiddenSize, 2]);
    const cfg = JSON.parse(files.config);
    expect(cfg).toMatchObject({
      peft_type: 'LORA', task_type: 'CAUSAL_LM', r: 2, lora_alpha: 4, lora_dropout: 0.05, use_rslora: false,
      bias: 'none', fan_in_fan_out: false, inference_mode: true, base_model_name_or_path: 'HuggingFaceTB/SmolLM2-135M',
    });
    expect(cfg.target_modules).toEqual(TARGETS);
    lora.release();
  });

  test('round trip restores every A and B exactly, interleaved models included', async () => {
    for (const ropeConvention of ['half', 'interleaved'] as const) {
      const c = tinyConfig({ ropeConvention });
      const { gpu, lora } = await randomLora(c);
      const files = await exportPeftAdapter(gpu, lora, 'base');
      const back = createLoraFromAdapter(gpu, c, parsePeftAdapter(files, c));
      for (const p of lora.pairs.values()) {
        const q = back.pairs.get(p.path)!;
        expect([...(await gpu.read(q.A))]).toEqual([...(await gpu.read(p.A))]);
        expect([...(await gpu.read(q.B))]).toEqual([...(await gpu.read(p.B))]);
      }
      lora.release();
      back.release();
    }
  });

  test('llama2.c models get q/k lora_B rows permuted as the HF converter permutes wq/wk', async () => {
    const c = tinyConfig({ ropeConvention: 'interleaved' });
    const { gpu, lora } = await randomLora(c);
    const files = await exportPeftAdapter(gpu, lora, 'base');
    const { tensors } = readSafetensors(files.weights, 'adapter');
    const q = lora.get(0, 'q_proj')!;
    const k = lora.get(0, 'k_proj')!;
    const v = lora.get(0, 'v_proj')!;
    expect([...tensors.get(`base_model.model.${q.path}.lora_B.weight`)!.data]).toEqual([...permuteForHalfRope(await gpu.read(q.B), c.numHeads, c.headDim, 2)]);
    expect([...tensors.get(`base_model.model.${k.path}.lora_B.weight`)!.data]).toEqual([...permuteForHalfRope(await gpu.read(k.B), c.numKvHeads, c.headDim, 2)]);
    expect([...tensors.get(`base_model.model.${v.path}.lora_B.weight`)!.data]).toEqual([...(await gpu.read(v.B))]);
    expect([...tensors.get(`base_model.model.${q.path}.lora_A.weight`)!.data]).toEqual([...(await gpu.read(q.A))]);
    lora.release();
  });

  test('refuses adapters that do not fit the model, naming the problem', async () => {
    const c = tinyConfig();
    const { gpu, lora } = await randomLora(c, ['q_proj', 'v_proj']);
    const files = await exportPeftAdapter(gpu, lora, 'base');
    const other = tinyConfig({ hiddenSize: 16 });
    expect(() => parsePeftAdapter(files, other)).toThrow(/q_proj\.lora_A\.weight has shape \[2, 12\], the model needs \[2, 16\]/);
    const deeper = tinyConfig({ numLayers: 3 });
    expect(() => parsePeftAdapter(files, deeper)).toThrow(/missing tensor .*layers\.2\.self_attn\.q_proj\.lora_A/);
    const badTargets = { ...files, config: files.config.replace('"v_proj"', '"v_proj", "lm_head"') };
    expect(() => parsePeftAdapter(badTargets, c)).toThrow(/target module "lm_head"/);
    const moreTargets = { ...files, config: files.config.replace('"v_proj"', '"v_proj", "o_proj"') };
    expect(() => parsePeftAdapter(moreTargets, c)).toThrow(/missing tensor .*o_proj\.lora_A/);
    const badRank = { ...files, config: files.config.replace('"r": 2', '"r": 4') };
    expect(() => parsePeftAdapter(badRank, c)).toThrow(/r=4/);
    expect(() => parsePeftAdapter({ ...files, config: '{' }, c)).toThrow(/adapter_config.json: not valid JSON/);
    const parsed = parsePeftAdapter(files, c);
    const wrongRun = new LoraSet(gpu, c, { r: 2, alpha: 8, targetModules: ['q_proj', 'v_proj'], useRslora: false });
    const { loadAdapterInto } = await import('../../src/model/peft_adapter');
    expect(() => loadAdapterInto(gpu, wrongRun, parsed)).toThrow(/does not match the run's LoRA settings/);
    wrongRun.release();
    lora.release();
  });
});

describe('PEFT adapter on the Hugging Face conversion of a llama2.c model', () => {
  test('merged into the rotate-half weights, the exported adapter gives the logits of the original model + LoRA', async () => {
    const { loadModelFromPath } = await import('../../src/model/load_node');
    const { toHalfRope } = await import('../../src/model/llama2c');
    const { transformerForward } = await import('../../src/reference/transformer');
    const { STORIES_BIN } = await import('./tiny');
    const gpu = await testGpu();
    const loaded = await loadModelFromPath(STORIES_BIN);
    const c = loaded.config;
    expect(c.ropeConvention).toBe('interleaved');
    const { lora } = await randomLora(c);
    const files = await exportPeftAdapter(gpu, lora, 'stories260K');
    const { tensors } = readSafetensors(files.weights, 'adapter');
    const scale = 4 / 2;
    // the original model with LoRA, as this engine runs it
    const refLora = new Map<string, { A: Float32Array; B: Float32Array; r: number; scale: number }>();
    for (const p of lora.pairs.values()) refLora.set(p.path, { A: await gpu.read(p.A), B: await gpu.read(p.B), r: 2, scale });
    const tokens = loaded.tokenizer.encode('Once upon a time, there was', { addBos: true });
    const want = transformerForward(c, loaded.weights, tokens, 1, tokens.length, refLora).logits;
    // what PEFT does on the converted model: W_hf + scale * B_exported @ A_exported, with rotate-half RoPE
    const hf = toHalfRope(c, loaded.weights);
    for (const p of lora.pairs.values()) {
      const A = tensors.get(`base_model.model.${p.path}.lora_A.weight`)!.data;
      const B = tensors.get(`base_model.model.${p.path}.lora_B.weight`)!.data;
      const w = hf.weights.get(`${p.path}.weight`)!;
      const merged = w.data.slice();
      for (let o = 0; o < p.outFeatures; o++) {
        for (let i = 0; i < p.inFeatures; i++) {
          let acc = 0;
          for (let k = 0; k < 2; k++) acc += B[o * 2 + k] * A[k * p.inFeatures + i];
          merged[o * p.inFeatures + i] += scale * acc;
        }
      }
      hf.weights.set(`${p.path}.weight`, { shape: w.shape, data: merged });
    }
    const got = transformerForward(hf.config, hf.weights, tokens, 1, tokens.length, null).logits;
    let maxErr = 0;
    for (let i = 0; i < want.length; i++) maxErr = Math.max(maxErr, Math.abs(got[i] - want[i]));
    expect(maxErr).toBeLessThan(1e-3);
    // and with q/k lora_B exported unpermuted it would not fit: the check can fail
    const unpermuted = toHalfRope(c, loaded.weights);
    for (const p of lora.pairs.values()) {
      const pair = refLora.get(p.path)!;
      const w = unpermuted.weights.get(`${p.path}.weight`)!;
      const merged = w.data.slice();
      for (let o = 0; o < p.outFeatures; o++) for (let i = 0; i < p.inFeatures; i++) {
        let acc = 0;
        for (let k = 0; k < 2; k++) acc += pair.B[o * 2 + k] * pair.A[k * p.inFeatures + i];
        merged[o * p.inFeatures + i] += scale * acc;
      }
      unpermuted.weights.set(`${p.path}.weight`, { shape: w.shape, data: merged });
    }
    const wrong = transformerForward(unpermuted.config, unpermuted.weights, tokens, 1, tokens.length, null).logits;
    let wrongErr = 0;
    for (let i = 0; i < want.length; i++) wrongErr = Math.max(wrongErr, Math.abs(wrong[i] - want[i]));
    expect(wrongErr).toBeGreaterThan(1e-2);
    lora.release();
  });
});
