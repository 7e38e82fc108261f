// What comes back in is validated like what goes out: a checkpoint's config (CLI --resume and the page's
// restore both read it with readCheckpointState) goes through the new-run config checks; an adapter is
// refused before any GPU work when its config is not an object, its r / lora_alpha are out of range, its
// target modules repeat or a weight is not finite; and a non-finite logit while sampling is an error that
// names the decode step, never a token id outside the vocabulary.
import { describe, expect, test } from 'vitest';
import { readCheckpointState } from '../src/grpo/checkpoint';
import { defaultConfig } from '../src/grpo/config';
import { writeSafetensors } from '../src/model/safetensors';
import { parsePeftAdapter } from '../src/model/peft_adapter';
import { modulePath, moduleShape, LoraSet, type LoraModule } from '../src/model/lora';
import { GpuTransformer } from '../src/model/transformer';
import { generate } from '../src/model/generate';
import { generateTurns } from '../src/model/generate_turns';
import { testGpu } from './gpu';
import { gpuTinyConfig, randomWeights } from './model/tiny';

const checkpoint = (state: unknown) => writeSafetensors(new Map(), { format: 'pt', grpo_playground_state: JSON.stringify(state) });

describe('a checkpoint is read like a new config', () => {
  test('max_prompt_length -5 is refused, naming the field', () => {
    const bytes = checkpoint({ version: 1, config: { ...defaultConfig(), max_prompt_length: -5 }, progress: {}, datasetFingerprint: 'x' });
    expect(() => readCheckpointState(bytes, 'run/checkpoint.safetensors')).toThrow(/run\/checkpoint\.safetensors: its config: a problem in the config:\n- max_prompt_length/);
  });

  test('a wrong type, an unknown key, a non-object config or state are refused', () => {
    const at = (config: unknown) => () => readCheckpointState(checkpoint({ version: 1, config, progress: {}, datasetFingerprint: 'x' }), 'c');
    expect(at({ ...defaultConfig(), learning_rate: 'fast' })).toThrow(/learning_rate/);
    expect(at({ ...defaultConfig(), __proto__x: 1 })).toThrow(/unknown key "__proto__x"/);
    expect(at(null)).toThrow(/c: its config: a config must be a JSON object/);
    expect(() => readCheckpointState(checkpoint(null), 'c')).toThrow(/c: its trainer state is not a JSON object/);
    expect(() => readCheckpointState(checkpoint({ version: 1, config: defaultConfig(), datasetFingerprint: 'x' }), 'c')).toThrow(/no progress object/);
  });

  test("the model's context bounds the config as for a new run", () => {
    const bytes = checkpoint({ version: 1, config: { ...defaultConfig(), max_prompt_length: 400, max_completion_length: 400 }, progress: {}, datasetFingerprint: 'x' });
    expect(readCheckpointState(bytes, 'c').config.max_prompt_length).toBe(400);
    expect(() => readCheckpointState(bytes, 'c', { maxSequenceLength: 512 })).toThrow(/c: its config/);
  });
});

describe('an adapter is refused before any GPU work', () => {
  const model = gpuTinyConfig({ numLayers: 1 });
  const targets: LoraModule[] = ['q_proj', 'v_proj'];
  const weights = (r: number, fill = 0.01, mods: LoraModule[] = targets) => {
    const t = new Map<string, { shape: number[]; data: Float32Array }>();
    for (const m of mods) {
      const [out, inF] = moduleShape(model, m);
      t.set(`base_model.model.${modulePath(0, m)}.lora_A.weight`, { shape: [r, inF], data: new Float32Array(r * inF).fill(fill) });
      t.set(`base_model.model.${modulePath(0, m)}.lora_B.weight`, { shape: [out, r], data: new Float32Array(out * r).fill(fill) });
    }
    return writeSafetensors(t, { format: 'pt' });
  };
  const config = (over: Record<string, unknown> = {}) => JSON.stringify({ peft_type: 'LORA', r: 2, lora_alpha: 4, target_modules: targets, ...over });

  test('a good adapter parses', () => {
    expect(parsePeftAdapter({ weights: weights(2), config: config() }, model).spec.r).toBe(2);
  });

  test('null, an array or a number as adapter_config.json', () => {
    for (const c of ['null', '[]', '7']) expect(() => parsePeftAdapter({ weights: weights(2), config: c }, model)).toThrow(/adapter_config\.json: must be a JSON object/);
  });

  test('lora_alpha 1e308, Infinity-like, r out of range, dropout out of range', () => {
    expect(() => parsePeftAdapter({ weights: weights(2), config: config({ lora_alpha: 1e308 }) }, model)).toThrow(/"lora_alpha" must be a positive number of at most 1000000 \(got 1e\+308\)/);
    expect(() => parsePeftAdapter({ weights: weights(2), config: config({ r: 100000 }) }, model)).toThrow(/"r" must be a positive integer of at most 4096/);
    expect(() => parsePeftAdapter({ weights: weights(2), config: config({ lora_dropout: 7 }) }, model)).toThrow(/"lora_dropout" must be a number in \[0, 1\)/);
  });

  test('duplicated target modules', () => {
    expect(() => parsePeftAdapter({ weights: weights(2), config: config({ target_modules: ['q_proj', 'v_proj', 'q_proj'] }) }, model)).toThrow(/target module "q_proj" is listed twice/);
  });

  test('NaN or infinite weights, naming the tensor', () => {
    expect(() => parsePeftAdapter({ weights: weights(2, NaN), config: config() }, model)).toThrow(/adapter_model\.safetensors: tensor base_model\.model\.model\.layers\.0\.self_attn\.q_proj\.lora_A\.weight holds NaN at index 0/);
    expect(() => parsePeftAdapter({ weights: weights(2, Infinity), config: config() }, model)).toThrow(/holds Infinity/);
  });
});

describe('a non-finite logit while sampling', () => {
  test('is an error naming the decode step, never an id outside the vocabulary (generate and generateTurns)', async () => {
    const gpu = await testGpu();
    const c = gpuTinyConfig({ numLayers: 1 });
    const model = GpuTransformer.upload(gpu, c, randomWeights(c, 5));
    // NaN LoRA weights written straight into the GPU (parsePeftAdapter now refuses such a file)
    const lora = new LoraSet(gpu, c, { r: 2, alpha: 4, targetModules: ['q_proj', 'v_proj'], useRslora: false });
    for (const p of lora.pairs.values()) {
      gpu.write(p.A, new Float32Array(p.A.size).fill(NaN));
      gpu.write(p.B, new Float32Array(p.B.size).fill(NaN));
    }
    try {
      const opts = { temperature: 1, topK: 0, topP: 1, seed: 1, stopIds: [2], maxNewTokens: 4 };
      await expect(generate(model, [[1, 5, 6], [1, 7]], { ...opts, lora })).rejects.toThrow(/sampling failed at decode step 0 \(row 0\): the sampled id \d+ is outside the vocabulary of 37/);
      await expect(generateTurns(model, [[1, 5, 6]], { ...opts, lora }, { endsTurn: () => false, onTurnEnd: async () => null })).rejects.toThrow(/sampling failed at decode step 0/);
      await expect(generate(model, [[1, 5, 6]], { ...opts, temperature: 0, lora })).rejects.toThrow(/sampling failed at decode step 0/); // greedy too
      // without the NaNs the same call samples ids in the vocabulary
      const ok = await generate(model, [[1, 5, 6], [1, 7]], { ...opts, lora: null });
      for (const row of ok.tokens) for (const id of row) expect(id).toBeLessThan(c.vocabSize);
    } finally {
      lora.release();
      model.release();
    }
  }, 60_000);
});
