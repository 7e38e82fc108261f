// Gemma 4 text on the CPU reference (src/reference/gemma4.ts): the config as transformers reads it (E2B's config
// in the Hub's format: layer shapes, shared-K/V sources, double-wide MLPs, proportional RoPE), refusals that name
// their field, the whole model's backward against central finite differences (LoRA and weights, both layouts of
// values: v_proj and attention_k_eq_v), and perturbations proving that shared layers read their source layer's
// K/V (and nothing of their own), and that PLE, layer_scalar and the soft-cap act.
import { describe, expect, test } from 'vitest';
import { parseHfConfig, type ModelConfig } from '../../src/model/config';
import { gemma4Layers } from '../../src/model/gemma4_config';
import { expectedShapes, type WeightMap } from '../../src/model/weights';
import { gemma4InvFreq, gemma4LoraModules } from '../../src/model/gemma4_lora';
import { transformerBackward, transformerForward, type LoraMap } from '../../src/reference/transformer';
import { Rng } from '../../src/util/random';
import { gemma4TinyConfig, gemma4Weights, K_EQ_V } from './gemma4_fixtures';
import { randomTokens } from './tiny';

/** google/gemma-4-E2B's text_config (config.json of the gemma4 checkpoint, Hub format). */
export const GEMMA4_E2B_JSON: Record<string, unknown> = {
  architectures: ['Gemma4ForConditionalGeneration'], model_type: 'gemma4', tie_word_embeddings: true, eos_token_id: [1, 106],
  text_config: {
    model_type: 'gemma4_text', hidden_size: 1536, num_hidden_layers: 35, num_attention_heads: 8, num_key_value_heads: 1, head_dim: 256,
    global_head_dim: 512, num_global_key_value_heads: null, attention_k_eq_v: false, sliding_window: 512, vocab_size: 262144,
    vocab_size_per_layer_input: 262144, hidden_size_per_layer_input: 256, num_kv_shared_layers: 20, use_double_wide_mlp: true,
    intermediate_size: 6144, max_position_embeddings: 131072, rms_norm_eps: 1e-6, hidden_activation: 'gelu_pytorch_tanh',
    final_logit_softcapping: 30.0, pad_token_id: 0, bos_token_id: 2, eos_token_id: 1, enable_moe_block: false,
    layer_types: Array.from({ length: 35 }, (_, i) => (i % 5 === 4 ? 'full_attention' : 'sliding_attention')),
    rope_parameters: {
      full_attention: { partial_rotary_factor: 0.25, rope_theta: 1000000.0, rope_type: 'proportional' },
      sliding_attention: { rope_theta: 10000.0, rope_type: 'default' },
    },
  },
};

describe('gemma4 config', () => {
  test('E2B (gemma4 checkpoint config): layer shapes, shared K/V sources, double-wide MLPs, PLE, soft-cap', () => {
    const c = parseHfConfig(GEMMA4_E2B_JSON, 'config.json');
    expect(c.architecture).toBe('Gemma4ForConditionalGeneration');
    expect(c.modelType).toBe('gemma4_text');
    expect([c.hiddenSize, c.numLayers, c.numHeads, c.numKvHeads, c.headDim]).toEqual([1536, 35, 8, 1, 256]);
    expect(c.normWeightOffset).toBe(0);
    expect(c.attentionScale).toBe(1);
    expect(c.embedScale).toBe(Math.fround(Math.sqrt(1536)));
    expect(c.eosTokenIds).toEqual([1]);
    expect(c.gemma4).toMatchObject({ globalHeadDim: 512, numKvSharedLayers: 20, plePerLayer: 256, pleVocab: 262144, finalLogitSoftcap: 30 });
    const layers = gemma4Layers(c);
    for (let l = 0; l < 35; l++) {
      const full = l % 5 === 4;
      expect(layers[l].HS).toBe(full ? 512 : 256);
      expect(layers[l].shared).toBe(l >= 15);
      // sliding shared layers read layer 13, full ones layer 14 (the last non-shared of their type)
      expect(layers[l].kvSource).toBe(l < 15 ? l : full ? 14 : 13);
      expect(layers[l].H).toBe(l >= 15 ? 12288 : 6144);
    }
    const shapes = expectedShapes(c);
    expect(shapes.get('model.embed_tokens_per_layer.weight')).toEqual([262144, 35 * 256]);
    expect(shapes.get('model.per_layer_model_projection.weight')).toEqual([35 * 256, 1536]);
    expect(shapes.get('model.layers.4.self_attn.q_proj.weight')).toEqual([8 * 512, 1536]);
    expect(shapes.get('model.layers.4.self_attn.k_proj.weight')).toEqual([512, 1536]);
    expect(shapes.has('model.layers.15.self_attn.k_proj.weight')).toBe(false);
    expect(shapes.has('model.layers.15.self_attn.k_norm.weight')).toBe(false);
    expect(shapes.get('model.layers.15.mlp.down_proj.weight')).toEqual([1536, 12288]);
    // the text model's parameters: 4.63 B, of which the PLE table is 2.35 B (4.375 GiB in bf16, 8.75 GiB in f32);
    // Google counts E2B's 5.1 B with the vision and audio towers. The rest is 2.28 B: 4.25 GiB in bf16.
    let n = 0;
    for (const s of shapes.values()) n += s.reduce((a, b) => a * b, 1);
    expect(n).toBe(4_628_569_379);
    expect(262144 * 35 * 256).toBe(2_348_810_240);
    // proportional RoPE: 64 of 256 frequencies on full layers, all 128 on sliding ones
    const full = gemma4InvFreq(c, layers[4]);
    expect(full.length).toBe(256);
    expect(full.filter((f) => f !== 0).length).toBe(64);
    expect(full[1]).toBeCloseTo(1e6 ** (-2 / 512), 15);
    expect(gemma4InvFreq(c, layers[0])[1]).toBeCloseTo(1e4 ** (-2 / 256), 15);
  });

  test('gemma4_text directly, k_eq_v, and defaults (last layer forced full, every 6th full)', () => {
    const c = gemma4TinyConfig(K_EQ_V);
    expect(c.architecture).toBe('Gemma4ForCausalLM');
    const layers = gemma4Layers(c);
    expect(layers.map((l) => l.kvSource)).toEqual([0, 1, 2, 1, 1, 2]);
    expect(layers.map((l) => l.NKV)).toEqual([1, 1, 2, 1, 1, 2]);
    expect(expectedShapes(c).has('model.layers.2.self_attn.v_proj.weight')).toBe(false);
    expect(expectedShapes(c).has('model.layers.1.self_attn.v_proj.weight')).toBe(true);
    const d = gemma4TinyConfig({ layer_types: undefined, num_hidden_layers: 8, num_kv_shared_layers: 0 });
    expect(d.layerTypes).toEqual(['sliding_attention', 'sliding_attention', 'sliding_attention', 'sliding_attention', 'sliding_attention',
      'full_attention', 'sliding_attention', 'full_attention']);
  });

  test('refusals name the field and the reason', () => {
    expect(() => gemma4TinyConfig({ enable_moe_block: true, num_experts: 8 })).toThrow(/enable_moe_block.*Mixture-of-Experts/);
    expect(() => gemma4TinyConfig({ layer_types: ['sliding_attention', 'sliding_attention', 'chunked', 'full_attention', 'full_attention', 'full_attention'] }))
      .toThrow(/layer_types\[2\]/);
    expect(() => gemma4TinyConfig({ num_kv_shared_layers: 5 })).toThrow(/num_kv_shared_layers.*no earlier non-shared full_attention/);
    expect(() => gemma4TinyConfig({ hidden_activation: 'relu' })).toThrow(/hidden_activation/);
    expect(() => parseHfConfig({ model_type: 'gemma4', vision_config: {} }, 'config.json')).toThrow(/text_config.*vision-only/);
    expect(() => gemma4TinyConfig({ rope_parameters: { full_attention: { rope_type: 'yarn', rope_theta: 1 } } })).toThrow(/rope_type/);
  });
});

const B = 2;
const T = 5;

function logitsOf(c: ModelConfig, w: WeightMap, tokens: number[], lora: LoraMap | null = null): Float32Array {
  return transformerForward(c, w, tokens, B, T, lora).logits;
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

function loraFor(c: ModelConfig, seed: number, r = 2, scale = 0.5): LoraMap {
  const rng = new Rng(seed);
  const lora: LoraMap = new Map();
  for (const [path, [OUT, IN]] of gemma4LoraModules(c)) {
    lora.set(path, {
      A: Float32Array.from({ length: r * IN }, () => 0.3 * rng.normal()),
      B: Float32Array.from({ length: OUT * r }, () => 0.3 * rng.normal()),
      r, scale,
    });
  }
  return lora;
}

describe('gemma4 reference backward against central finite differences', () => {
  for (const [name, over] of [['E2B-like (v_proj)', {}], ['attention_k_eq_v', K_EQ_V]] as const) {
    test(name, () => {
      const c = gemma4TinyConfig(over);
      const w = gemma4Weights(c, 11, 0.25);
      const lora = loraFor(c, 12);
      const tokens = randomTokens(B * T, c.vocabSize, 13);
      const rng = new Rng(14);
      const G = Float64Array.from({ length: B * T * c.vocabSize }, () => rng.normal());
      const loss = () => {
        const { acts } = transformerForward(c, w, tokens, B, T, lora);
        let s = 0;
        for (let i = 0; i < G.length; i++) s += G[i] * acts.logits[i];
        return s;
      };
      const { acts } = transformerForward(c, w, tokens, B, T, lora);
      const grads = transformerBackward(acts, G);
      const EPS = 3e-4; // converged: 1e-4 agrees too
      const diff = (arr: Float32Array, i: number) => {
        const o = arr[i];
        arr[i] = o + EPS;
        const up = arr[i];
        const lp = loss();
        arr[i] = o - EPS;
        const down = arr[i];
        const lm = loss();
        arr[i] = o;
        return (lp - lm) / (up - down);
      };
      const bad: string[] = [];
      const check = (label: string, arr: Float32Array, grad: Float32Array, coords: number[]) => {
        for (const i of coords) {
          const fd = diff(arr, i);
          if (Math.abs(fd - grad[i]) > 2e-5 + 2e-3 * Math.abs(fd)) bad.push(`${label}[${i}]: backward ${grad[i]}, fd ${fd}`);
        }
      };
      const pick = (n: number) => [0, Math.floor(n / 3), Math.floor((2 * n) / 3), n - 1];
      const weightsToCheck = [
        'model.layers.1.self_attn.k_proj.weight', // read by shared layers 3 and 4 too
        'model.layers.2.self_attn.k_proj.weight', // full layer, read by shared layer 5 (values too with k_eq_v)
        'model.layers.4.self_attn.q_proj.weight', 'model.layers.5.self_attn.q_norm.weight', 'model.layers.1.self_attn.k_norm.weight',
        'model.layers.5.mlp.down_proj.weight', 'model.layers.0.per_layer_input_gate.weight', 'model.layers.3.per_layer_projection.weight',
        'model.layers.2.post_per_layer_input_norm.weight', 'model.layers.4.layer_scalar', 'model.embed_tokens_per_layer.weight',
        'model.per_layer_model_projection.weight', 'model.per_layer_projection_norm.weight', 'model.embed_tokens.weight', 'model.norm.weight',
      ];
      if (!('attention_k_eq_v' in over)) weightsToCheck.push('model.layers.2.self_attn.v_proj.weight');
      for (const n of weightsToCheck) {
        const t = w.get(n)!.data;
        const g = grads.weights.get(n)!;
        // the PLE and embedding tables: rows of tokens that occur
        const coords = n.includes('embed_tokens')
          ? [tokens[0] * (t.length / (n.includes('per_layer') ? c.gemma4!.pleVocab : c.vocabSize)) + 1, tokens[3] * (t.length / (n.includes('per_layer') ? c.gemma4!.pleVocab : c.vocabSize))]
          : pick(t.length);
        check(n, t, g, coords);
      }
      for (const path of ['model.layers.1.self_attn.k_proj', 'model.layers.2.self_attn.k_proj', 'model.layers.4.self_attn.o_proj', 'model.layers.5.mlp.gate_proj']) {
        const lw = lora.get(path)!;
        const lg = grads.lora.get(path)!;
        check(`${path}.A`, lw.A, lg.A, pick(lw.A.length));
        check(`${path}.B`, lw.B, lg.B, pick(lw.B.length));
      }
      expect(bad).toEqual([]);
    }, 120_000);
  }
});

describe('gemma4 reference: what each part does', () => {
  const c = gemma4TinyConfig();
  const tokens = randomTokens(B * T, c.vocabSize, 3);
  const base = gemma4Weights(c, 21);
  const ref = logitsOf(c, base, tokens);
  const perturbed = (name: string, f: (d: Float32Array) => void): WeightMap => {
    const w = new Map([...base].map(([k, t]) => [k, { shape: t.shape, data: Float32Array.from(t.data) }]));
    f(w.get(name)!.data);
    return w;
  };

  test('shared layers read the source layer\'s K/V: perturbing layer 1\'s k_proj changes shared layers 3 and 4', () => {
    // zero layer 1's own attention output so that its K/V reach the logits only through the shared layers
    const cut = perturbed('model.layers.1.self_attn.o_proj.weight', (d) => d.fill(0));
    const before = logitsOf(c, cut, tokens);
    const w2 = new Map(cut);
    const k = Float32Array.from(cut.get('model.layers.1.self_attn.k_proj.weight')!.data).map((v) => v * 1.5 + 0.1);
    w2.set('model.layers.1.self_attn.k_proj.weight', { shape: cut.get('model.layers.1.self_attn.k_proj.weight')!.shape, data: k });
    expect(maxDiff(logitsOf(c, w2, tokens), before)).toBeGreaterThan(1e-3);
    // and with the shared layers' attention cut as well, nothing changes
    const cutAll = new Map(w2);
    for (const l of [3, 4]) cutAll.set(`model.layers.${l}.self_attn.o_proj.weight`, { shape: base.get(`model.layers.${l}.self_attn.o_proj.weight`)!.shape, data: new Float32Array(base.get(`model.layers.${l}.self_attn.o_proj.weight`)!.data.length) });
    const cutAllBefore = new Map(cut);
    for (const l of [3, 4]) cutAllBefore.set(`model.layers.${l}.self_attn.o_proj.weight`, cutAll.get(`model.layers.${l}.self_attn.o_proj.weight`)!);
    expect(maxDiff(logitsOf(c, cutAll, tokens), logitsOf(c, cutAllBefore, tokens))).toBe(0);
  });

  test('a shared layer\'s own k/v weights are not read (extra tensors leave the logits as they are)', () => {
    const w = new Map(base);
    w.set('model.layers.4.self_attn.k_proj.weight', { shape: [8, 16], data: new Float32Array(128).fill(9) });
    w.set('model.layers.4.self_attn.v_proj.weight', { shape: [8, 16], data: new Float32Array(128).fill(-9) });
    expect(maxDiff(logitsOf(c, w, tokens), ref)).toBe(0);
  });

  test('LoRA on a shared layer\'s k_proj, or on v_proj of a k_eq_v layer, is refused with the reason', () => {
    const lora: LoraMap = new Map([['model.layers.4.self_attn.k_proj', { A: new Float32Array(32), B: new Float32Array(16), r: 2, scale: 1 }]]);
    expect(() => logitsOf(c, base, tokens, lora)).toThrow(/layer 4 shares the keys and values of layer 1.*num_kv_shared_layers/);
    const ck = gemma4TinyConfig(K_EQ_V);
    const lv: LoraMap = new Map([['model.layers.2.self_attn.v_proj', { A: new Float32Array(32), B: new Float32Array(64), r: 2, scale: 1 }]]);
    expect(() => logitsOf(ck, gemma4Weights(ck, 1), tokens, lv)).toThrow(/attention_k_eq_v/);
  });

  test('PLE, layer_scalar, the sliding window, proportional RoPE and the soft-cap each change the logits', () => {
    const changes = (w: WeightMap) => maxDiff(logitsOf(c, w, tokens), ref);
    expect(changes(perturbed('model.embed_tokens_per_layer.weight', (d) => d.forEach((v, i) => (d[i] = v + 0.5))))).toBeGreaterThan(1e-3);
    expect(changes(perturbed('model.per_layer_model_projection.weight', (d) => d.forEach((v, i) => (d[i] = -v))))).toBeGreaterThan(1e-3);
    expect(changes(perturbed('model.layers.2.layer_scalar', (d) => (d[0] *= 2)))).toBeGreaterThan(1e-3);
    // a wider window changes sliding layers (T = 5 > window 3)
    expect(maxDiff(logitsOf(gemma4TinyConfig({ sliding_window: 8 }), base, tokens), ref)).toBeGreaterThan(1e-4);
    // full layers' RoPE: partial_rotary_factor matters
    expect(maxDiff(logitsOf(gemma4TinyConfig({ rope_parameters: { full_attention: { rope_type: 'proportional', partial_rotary_factor: 1, rope_theta: 1e6 }, sliding_attention: { rope_type: 'default', rope_theta: 1e4 } } }), base, tokens), ref)).toBeGreaterThan(1e-4);
    // the cap bounds every logit
    for (const v of ref) expect(Math.abs(v)).toBeLessThan(3);
    const uncapped = logitsOf(gemma4TinyConfig({ final_logit_softcapping: null }), base, tokens);
    for (let i = 0; i < ref.length; i += 97) expect(ref[i]).toBeCloseTo(3 * Math.tanh(uncapped[i] / 3), 5);
  });
});
