// Gemma 4 folders with the real Gemma 3 tokenizer standing in (vocab 262,144), in both checkpoint layouts:
// Gemma4ForCausalLM (model.*) and Gemma4ForConditionalGeneration (model.language_model.*, with vision and audio
// tower tensors that are skipped). Both load to the same weights and the reference gives the same log-probs of
// real tokenized text, on the CPU reference and on the GPU model; the shared layers' own k/v tensors in a file are ignored; a missing or misshapen tensor is
// named; the GPU model refuses Gemma 4 with its reason.
import { describe, expect, test } from 'vitest';
import { loadModelFromPath } from '../../src/model/load_node';
import { GpuTransformer } from '../../src/model/transformer';
import { Gemma4Gpu } from '../../src/model/gemma4_gpu';
import { expectClose } from './tiny';
import { transformerForward } from '../../src/reference/transformer';
import type { WeightMap } from '../../src/model/weights';
import { testGpu } from '../gpu';
import { gemma4TinyJson, gemma4Weights } from './gemma4_fixtures';
import { parseHfConfig } from '../../src/model/config';

const JSON_ = gemma4TinyJson({ vocab_size: 262144, vocab_size_per_layer_input: 262144, hidden_size_per_layer_input: 2 });
const config = parseHfConfig(JSON_, 'config.json');
const weights = gemma4Weights(config, 5);

/** exact equality without vitest's slow deep compare of million-element arrays */
function same(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function logits(w: WeightMap, ids: number[]): Float32Array {
  return transformerForward(config, w, ids, 1, ids.length).logits;
}

describe('gemma4 folders', () => {
  test('both layouts load to the same model; the real tokenizer encodes; extra shared-layer k/v are ignored', async () => {
    // the shared layers' own k/v tensors, as some checkpoints carry them: ignored (they would change nothing anyway)
    const extra: WeightMap = new Map();
    for (const l of [3, 4]) {
      extra.set(`model.layers.${l}.self_attn.k_proj.weight`, { shape: [8, 16], data: new Float32Array(128).fill(3) });
      extra.set(`model.layers.${l}.self_attn.v_proj.weight`, { shape: [8, 16], data: new Float32Array(128).fill(3) });
      extra.set(`model.layers.${l}.self_attn.k_norm.weight`, { shape: [8], data: new Float32Array(8).fill(3) });
    }
    const { writeGemma4Folder } = await import('./gemma4_fixtures');
    const causal = await loadModelFromPath(await writeGemma4Folder(JSON_, weights, 'causal', extra));
    const conditional = await loadModelFromPath(await writeGemma4Folder(JSON_, weights, 'conditional'));
    expect(causal.config.architecture).toBe('Gemma4ForCausalLM');
    expect(conditional.config.architecture).toBe('Gemma4ForConditionalGeneration');
    for (const m of [causal, conditional]) {
      expect([...m.weights.keys()].sort()).toEqual([...weights.keys()].sort());
      for (const [name, t] of weights) expect(same(m.weights.get(name)!.data, t.data), name).toBe(true);
      expect(m.config.bosTokenId).toBe(2);
      expect(m.config.eosTokenIds).toContain(106); // <end_of_turn> from generation_config.json
    }
    const ids = causal.tokenizer.encode('The capital of France is');
    expect(ids[0]).toBe(2); // Gemma's tokenizer adds <bos>
    expect(ids.length).toBeGreaterThan(3);
    const a = logits(causal.weights, ids);
    expect(same(logits(conditional.weights, ids), a)).toBe(true);
    // the GPU model on the loaded conditional checkpoint: the same logits over the real 262,144-token vocabulary
    const gpu = await testGpu();
    const model = Gemma4Gpu.upload(gpu, conditional.config, conditional.weights);
    const tIds = gpu.upload(Uint32Array.from(ids), [ids.length], 'ids', 'u32');
    const tPos = gpu.upload(Uint32Array.from(ids.map((_, i) => i)), [ids.length], 'positions', 'u32');
    const out = model.logits(tIds, tPos, 1, ids.length);
    expectClose('GPU logits (conditional folder)', await gpu.read(out), a);
    gpu.release(out, tIds, tPos);
    model.destroy();
    expect(a.every((v) => Number.isFinite(v) && Math.abs(v) < 3)).toBe(true); // soft-capped at 3
    expect(a.some((v) => Math.abs(v) > 0.5)).toBe(true);
  }, 120_000);

  test('a missing or misshapen tensor is named', async () => {
    const { writeGemma4Folder } = await import('./gemma4_fixtures');
    const missing = new Map(weights);
    missing.delete('model.layers.2.per_layer_projection.weight');
    await expect(loadModelFromPath(await writeGemma4Folder(JSON_, missing, 'conditional'))).rejects.toThrow(
      /missing tensor model\.layers\.2\.per_layer_projection\.weight \(expected shape \[16, 2\]\)/,
    );
    const misshapen = new Map(weights);
    misshapen.set('model.layers.2.self_attn.k_proj.weight', { shape: [8, 16], data: new Float32Array(128) }); // full layer: [16, 16]
    await expect(loadModelFromPath(await writeGemma4Folder(JSON_, misshapen, 'causal'))).rejects.toThrow(
      /tensor model\.layers\.2\.self_attn\.k_proj\.weight has shape \[8, 16\], expected \[16, 16\]/,
    );
  }, 120_000);

  test('the GPU model refuses Gemma 4 with the reason', async () => {
    const gpu = await testGpu();
    expect(() => GpuTransformer.upload(gpu, config, weights)).toThrow(/does not run Gemma 4 yet/);
  });
});
