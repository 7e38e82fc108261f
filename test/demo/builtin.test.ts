// The built-in model as the page and the command line load it: a Hugging Face folder read by the same
// loader as any other model, of the promised size, and the demo's configs that the first screen uses.
import { statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { loadModelFromPath } from '../../src/model/load_node';
import { validateConfig } from '../../src/grpo/config';
import { BUILTIN_MODEL, DEFAULT_DEMO_DATASET_ID, DEMO_DATASETS, demoConfig } from '../../src/demo/builtin';
import { TINY_PUZZLES_SHAPE } from '../../src/demo/model_init';

const PUBLIC = fileURLToPath(new URL('../../public/', import.meta.url));
const MODEL_DIR = PUBLIC + BUILTIN_MODEL.path;

describe('built-in model', () => {
  test('its files are in public/ and the folder loads through loadModelFromPath', async () => {
    expect(BUILTIN_MODEL.path).toBe('models/tiny-puzzles/');
    expect([...BUILTIN_MODEL.files].sort()).toEqual(['config.json', 'model.safetensors', 'tokenizer.json']);
    let bytes = 0;
    for (const f of BUILTIN_MODEL.files) bytes += statSync(MODEL_DIR + f).size;
    expect(bytes).toBeLessThanOrEqual(10 * 1024 * 1024);

    const m = await loadModelFromPath(MODEL_DIR);
    expect(m.name).toBe('tiny-puzzles');
    expect(m.dtype).toBe('f32');
    const c = m.config;
    expect(c.architecture).toBe('LlamaForCausalLM');
    expect(c.tieWordEmbeddings).toBe(true);
    expect(c.ropeTheta).toBe(10000);
    expect(c.ropeConvention).toBe('half');
    expect(c.maxPositionEmbeddings).toBeLessThanOrEqual(128);
    expect(c.hiddenSize).toBe(TINY_PUZZLES_SHAPE.hiddenSize);
    expect(c.numLayers).toBe(TINY_PUZZLES_SHAPE.numLayers);
    const params = [...m.weights.values()].reduce((a, t) => a + t.data.length, 0);
    expect(params).toBeGreaterThanOrEqual(500_000);
    expect(params).toBeLessThanOrEqual(3_000_000);
    expect(m.weights.has('lm_head.weight')).toBe(false); // tied
    // trained, not the initialisation: finite weights, norms moved away from 1
    for (const [name, t] of m.weights) expect(t.data.every(Number.isFinite), name).toBe(true);
    expect(m.weights.get('model.norm.weight')!.data.some((v) => Math.abs(v - 1) > 0.05)).toBe(true);
    expect(m.tokenizer.bosId).toBe(1);
    expect(m.tokenizer.eosIds).toEqual([2]);
    expect(m.chatTemplate ?? null).toBeNull();
  });
});

describe('demo datasets and configs', () => {
  test('the main demo is listed first and every dataset names its reward', () => {
    expect(DEMO_DATASETS[0].id).toBe(DEFAULT_DEMO_DATASET_ID);
    expect(new Set(DEMO_DATASETS.map((d) => d.id)).size).toBe(DEMO_DATASETS.length);
    for (const d of DEMO_DATASETS) {
      expect(d.path).toBe(`datasets/${d.id}.jsonl`);
      expect(statSync(PUBLIC + d.path).size).toBeGreaterThan(0);
      expect(d.name.length).toBeGreaterThan(0);
      expect(d.description.length).toBeGreaterThan(0);
      expect(d.rewardFuncs.length).toBeGreaterThan(0);
    }
  });

  test('demoConfig validates for every dataset, fits the model and uses its reward', () => {
    for (const d of DEMO_DATASETS) {
      const c = demoConfig(d.id);
      expect(validateConfig(c, { maxSequenceLength: 64 }), d.id).toEqual([]);
      expect(c.reward_funcs.map((r) => r.name)).toEqual(d.rewardFuncs.map((r) => r.name));
      expect(c.max_steps).toBeLessThanOrEqual(300);
      expect(c.eval_split).toBeGreaterThan(0);
      expect(c.use_chat_template).toBe(false);
    }
    // a fresh object each time: the UI may edit it
    const a = demoConfig();
    a.reward_funcs[0].weight = 5;
    expect(demoConfig().reward_funcs[0].weight).toBe(1);
    expect(() => demoConfig('nope')).toThrow(/unknown demo dataset "nope"/);
  });
});
