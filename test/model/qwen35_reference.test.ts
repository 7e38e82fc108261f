// Qwen3.5 text on the CPU: config parsing (both layouts, bad input named), tensor shapes, and the whole
// reference model (Gated DeltaNet linear layers, gated full layers with partial RoPE) whose backward is checked
// against central finite differences of its own forward, weights and LoRA on every projection.
import { describe, expect, test } from 'vitest';
import { parseHfConfig } from '../../src/model/config';
import { expectedShapes, validateWeights } from '../../src/model/weights';
import { transformerBackward, transformerForward, type LoraMap } from '../../src/reference/transformer';
import type { WeightMap } from '../../src/model/weights';
import type { ModelConfig } from '../../src/model/config';
import { Rng } from '../../src/util/random';
import { randomTokens } from './tiny';
import { qwen35Lora, qwen35TinyConfig, qwen35TinyJson, qwen35Weights } from './qwen35_fixtures';

describe('Qwen3.5 config', () => {
  test('qwen3_5_text: layer types, partial RoPE from rope_parameters, linear shape, (1 + w) norms, gated q', () => {
    const c = qwen35TinyConfig();
    expect(c.architecture).toBe('Qwen3_5ForCausalLM');
    expect(c.layerTypes).toEqual(['linear_attention', 'full_attention', 'linear_attention']);
    expect(c.rotaryDim).toBe(2);
    expect(c.linearAttention).toEqual({ numKeyHeads: 1, keyHeadDim: 3, numValueHeads: 2, valueHeadDim: 2, convKernel: 3 });
    expect(c.normWeightOffset).toBe(1);
    expect(c.qkNorm).toBe(true);
    expect(c.attnOutputGate).toBe(true);
    expect(c.ropeTheta).toBe(100);
    // defaults: full_attention_interval 4, partial_rotary_factor 0.25 (top level in older configs)
    const d = qwen35TinyConfig({ layer_types: undefined, num_hidden_layers: 8, rope_parameters: undefined, partial_rotary_factor: 0.5 });
    expect(d.layerTypes).toEqual(['linear_attention', 'linear_attention', 'linear_attention', 'full_attention', 'linear_attention', 'linear_attention', 'linear_attention', 'full_attention']);
    expect(d.rotaryDim).toBe(2);
  });

  test('qwen3_5 (Qwen3_5ForConditionalGeneration): its text_config, with the outer tying and token ids', () => {
    const text = qwen35TinyJson();
    delete text.tie_word_embeddings;
    delete text.eos_token_id;
    const c = parseHfConfig({
      architectures: ['Qwen3_5ForConditionalGeneration'], model_type: 'qwen3_5', tie_word_embeddings: true, eos_token_id: 7,
      text_config: { ...text, model_type: 'qwen3_5_text' }, vision_config: { depth: 2, hidden_size: 16 },
    });
    expect(c.architecture).toBe('Qwen3_5ForConditionalGeneration');
    expect(c.tieWordEmbeddings).toBe(true);
    expect(c.eosTokenIds).toEqual([7]);
    expect(c.layerTypes).toEqual(qwen35TinyConfig().layerTypes);
  });

  test('bad input: an unknown layer type, MoE, vision only, a non-dividing key head count are refused by name', () => {
    expect(() => qwen35TinyConfig({ layer_types: ['linear_attention', 'sliding_attention', 'full_attention'] }))
      .toThrow(/layer_types\[1\] is "sliding_attention": a Qwen3.5 layer is "linear_attention" or "full_attention"/);
    expect(() => qwen35TinyConfig({ num_experts: 8 })).toThrow(/num_experts is set: a mixture-of-experts Qwen3.5/);
    expect(() => parseHfConfig({ model_type: 'qwen3_5', vision_config: { depth: 2 } })).toThrow(/text_config is missing.*vision-only/);
    expect(() => parseHfConfig({ model_type: 'qwen3_5', text_config: { model_type: 'qwen3_5_moe_text' } })).toThrow(/mixture-of-experts Qwen3.5 is not supported/);
    expect(() => qwen35TinyConfig({ linear_num_key_heads: 3 })).toThrow(/linear_num_key_heads must divide linear_num_value_heads \(2\)/);
  });

  test('tensors: linear layers hold linear_attn.*, full layers a (2*NH*HS, C) q_proj; missing and misshapen tensors are named', () => {
    const c = qwen35TinyConfig();
    const shapes = expectedShapes(c);
    expect(shapes.get('model.layers.0.linear_attn.in_proj_qkv.weight')).toEqual([2 * 3 + 2 * 2, 8]);
    expect(shapes.get('model.layers.0.linear_attn.conv1d.weight')).toEqual([10, 1, 3]);
    expect(shapes.get('model.layers.0.linear_attn.norm.weight')).toEqual([2]);
    expect(shapes.get('model.layers.0.linear_attn.out_proj.weight')).toEqual([8, 4]);
    expect(shapes.has('model.layers.0.self_attn.q_proj.weight')).toBe(false);
    expect(shapes.get('model.layers.1.self_attn.q_proj.weight')).toEqual([16, 8]);
    expect(shapes.has('model.layers.1.linear_attn.A_log')).toBe(false);
    const w = qwen35Weights(c, 1);
    expect(() => validateWeights(c, w, 'ckpt')).not.toThrow();
    const missing = new Map(w);
    missing.delete('model.layers.2.linear_attn.A_log');
    expect(() => validateWeights(c, missing, 'ckpt')).toThrow(/missing tensor model.layers.2.linear_attn.A_log \(expected shape \[2\]\)/);
    const bad = new Map(w);
    bad.set('model.layers.0.linear_attn.conv1d.weight', { shape: [10, 3], data: new Float32Array(30) });
    expect(() => validateWeights(c, bad, 'ckpt')).toThrow(/conv1d.weight has shape \[10, 3\], expected \[10, 1, 3\]/);
  });
});

const B = 2;
const T = 5;
// 1e-4: the l2norm of a short (DK = 3) conv output makes a few coordinates strongly curved (measured on
// layers.0 conv1d.weight[29]: eps 1e-2 gives 277, 1e-3 620, backward 645)
const EPS = 1e-4;

function loss(c: ModelConfig, w: WeightMap, tokens: number[], lora: LoraMap | null, dlogits: Float64Array): number {
  const { acts } = transformerForward(c, w, tokens, B, T, lora);
  let s = 0;
  for (let i = 0; i < dlogits.length; i++) s += dlogits[i] * acts.logits[i];
  return s;
}

function centralDiff(arr: Float32Array, i: number, f: () => number): number {
  const orig = arr[i];
  arr[i] = orig + EPS;
  const up = arr[i];
  const lp = f();
  arr[i] = orig - EPS;
  const down = arr[i];
  const lm = f();
  arr[i] = orig;
  return (lp - lm) / (up - down);
}

describe('Qwen3.5 reference model', () => {
  test('backward vs finite differences: every weight tensor and every LoRA A/B (linear and full layers)', () => {
    const c = qwen35TinyConfig();
    const w = qwen35Weights(c, 11);
    const lora = qwen35Lora(c, 12, 2, 0.75);
    const tokens = randomTokens(B * T, c.vocabSize, 13);
    const rng = new Rng(14);
    const dlogits = Float64Array.from({ length: B * T * c.vocabSize }, () => rng.normal());
    const { acts } = transformerForward(c, w, tokens, B, T, lora);
    const grads = transformerBackward(acts, dlogits);
    expect([...grads.weights.keys()].sort()).toEqual([...w.keys()].sort());
    expect([...grads.lora.keys()].sort()).toEqual([...lora.keys()].sort());
    const f = () => loss(c, w, tokens, lora, dlogits);
    const failures: string[] = [];
    let checked = 0;
    let nonzero = 0;
    const check = (what: string, arr: Float32Array, grad: Float32Array) => {
      expect(grad.length, what).toBe(arr.length);
      for (let k = 0; k < 3; k++) {
        const i = rng.int(arr.length);
        const fd = centralDiff(arr, i, f);
        checked++;
        if (Math.abs(fd) > 1e-4) nonzero++;
        if (!(Math.abs(grad[i] - fd) <= 2e-6 + 1e-3 * Math.abs(fd))) failures.push(`${what}[${i}]: backward ${grad[i]}, finite difference ${fd}`);
      }
    };
    for (const [name, t] of w) check(name, t.data, grads.weights.get(name)!);
    for (const [path, m] of lora) {
      check(`${path}.lora_A`, m.A, grads.lora.get(path)!.A);
      check(`${path}.lora_B`, m.B, grads.lora.get(path)!.B);
    }
    expect(failures.join('\n')).toBe('');
    expect(nonzero).toBeGreaterThan(checked * 0.8);
  });

  test('causal: a later token never changes an earlier position\'s logits (through the conv and the delta rule)', () => {
    const c = qwen35TinyConfig();
    const w = qwen35Weights(c, 21);
    const tokens = randomTokens(B * T, c.vocabSize, 22);
    const base = transformerForward(c, w, tokens, B, T).logits;
    const changed = tokens.slice();
    changed[3] = (changed[3] + 1) % c.vocabSize; // row 0, position 3
    const other = transformerForward(c, w, changed, B, T).logits;
    const V = c.vocabSize;
    expect(Array.from(other.slice(0, 3 * V))).toEqual(Array.from(base.slice(0, 3 * V)));
    expect(Array.from(other.slice(3 * V, 4 * V))).not.toEqual(Array.from(base.slice(3 * V, 4 * V)));
    expect(Array.from(other.slice(4 * V, 5 * V))).not.toEqual(Array.from(base.slice(4 * V, 5 * V)));
  });
});
