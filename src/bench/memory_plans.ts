// memory_plans for `npm run bench`: the exact memory plan (src/grpo/memory_plan.ts, a dry run of one
// training step's host code) of a GSM8K-like GRPO step (4 prompts x 8 completions, prompt 192 tokens,
// completion 256, LoRA r 8 on q/k/v/o, beta 0) for eight public model shapes, before and after issue 12 (Gemma-4-E2B:
// the exact plan of its own model, gemma4Row, with no "before"):
//   before: f32 base, (N, V) logits and dlogits, every layer's activations kept in forwards without backward
//           (prefill, log-probs), the config's own layout (the design before this issue, reproduced by
//           switches on the current code: GpuTransformer.lmHeadChunkBytes = Infinity, inferenceKeepsLayers)
//   after:  the plan choosePlan makes for the model's target as budget (2.5 GiB where the issue sets none) (16-bit base under 'auto', logits in vocabulary
//           chunks, one layer at a time in forwards without backward, and the largest layout that fits; the
//           smallest layout when none fits)
// Every model is planned with this engine's own config parser and model code (Qwen3's q/k norms, Gemma 3's four
// norms, GeGLU and sliding layers included); structural_config.ts is only the fallback for a model_type the
// engine does not run, and a row says so (structural: true).
import { parseHfConfig, type ModelConfig } from '../model/config';
import { structuralConfig } from '../model/structural_config';
import { defaultConfig, type GrpoConfig } from '../grpo/config';
import { choosePlan, measureStep, type MemoryPlan } from '../grpo/memory_plan';
import { resolveBasePrecision } from '../model/weight_storage';
import { llamaCppQuantTypes, type GgufFileType } from '../model/gguf/schemes';
import { gemma4MemoryFloor, type Gemma4MemoryFloor } from '../grpo/gemma4_memory';

const GIB = 2 ** 30;

/** Public configs' shapes (GUIDE.md "Shapes"). */
export const PLAN_MODELS: { name: string; json: Record<string, unknown>; targetGiB?: number }[] = [
  { name: 'SmolLM2-135M', targetGiB: 1, json: { model_type: 'llama', architectures: ['LlamaForCausalLM'], hidden_size: 576, intermediate_size: 1536, num_hidden_layers: 30, num_attention_heads: 9, num_key_value_heads: 3, vocab_size: 49152, max_position_embeddings: 8192, tie_word_embeddings: true, torch_dtype: 'bfloat16' } },
  { name: 'SmolLM2-360M', json: { model_type: 'llama', architectures: ['LlamaForCausalLM'], hidden_size: 960, intermediate_size: 2560, num_hidden_layers: 32, num_attention_heads: 15, num_key_value_heads: 5, vocab_size: 49152, max_position_embeddings: 8192, tie_word_embeddings: true, torch_dtype: 'bfloat16' } },
  { name: 'Qwen3-0.6B', targetGiB: 2.5, json: { model_type: 'qwen3', architectures: ['Qwen3ForCausalLM'], rope_theta: 1000000, rms_norm_eps: 1e-6, hidden_size: 1024, intermediate_size: 3072, num_hidden_layers: 28, num_attention_heads: 16, num_key_value_heads: 8, head_dim: 128, vocab_size: 151936, max_position_embeddings: 40960, tie_word_embeddings: true, torch_dtype: 'bfloat16' } },
  { name: 'Qwen3-1.7B', json: { model_type: 'qwen3', architectures: ['Qwen3ForCausalLM'], rope_theta: 1000000, rms_norm_eps: 1e-6, hidden_size: 2048, intermediate_size: 6144, num_hidden_layers: 28, num_attention_heads: 16, num_key_value_heads: 8, head_dim: 128, vocab_size: 151936, max_position_embeddings: 40960, tie_word_embeddings: true, torch_dtype: 'bfloat16' } },
  { name: 'Gemma-3-270M', targetGiB: 1.5, json: { model_type: 'gemma3_text', architectures: ['Gemma3ForCausalLM'], query_pre_attn_scalar: 256, sliding_window: 512, rope_theta: 1000000, rope_local_base_freq: 10000, rms_norm_eps: 1e-6, hidden_size: 640, intermediate_size: 2048, num_hidden_layers: 18, num_attention_heads: 4, num_key_value_heads: 1, head_dim: 256, vocab_size: 262144, max_position_embeddings: 32768, tie_word_embeddings: true, torch_dtype: 'bfloat16' } },
  { name: 'Gemma-3-1B', json: { model_type: 'gemma3_text', architectures: ['Gemma3ForCausalLM'], query_pre_attn_scalar: 256, sliding_window: 512, rope_theta: 1000000, rope_local_base_freq: 10000, rms_norm_eps: 1e-6, hidden_size: 1152, intermediate_size: 6912, num_hidden_layers: 26, num_attention_heads: 4, num_key_value_heads: 1, head_dim: 256, vocab_size: 262144, max_position_embeddings: 32768, tie_word_embeddings: true, torch_dtype: 'bfloat16' } },
  { name: 'Qwen2.5-0.5B', json: { model_type: 'qwen2', architectures: ['Qwen2ForCausalLM'], hidden_size: 896, intermediate_size: 4864, num_hidden_layers: 24, num_attention_heads: 14, num_key_value_heads: 2, vocab_size: 151936, max_position_embeddings: 32768, tie_word_embeddings: true, torch_dtype: 'bfloat16' } },
  // the Hub's Qwen3_5ForConditionalGeneration format: the language model in text_config (vision tower not planned)
  { name: 'Qwen3.5-0.8B', targetGiB: 2.5, json: { architectures: ['Qwen3_5ForConditionalGeneration'], model_type: 'qwen3_5', tie_word_embeddings: true, image_token_id: 248056, video_token_id: 248057, vision_config: { depth: 12, hidden_size: 768, out_hidden_size: 1024 }, text_config: { model_type: 'qwen3_5_text', hidden_size: 1024, intermediate_size: 3584, num_hidden_layers: 24, num_attention_heads: 8, num_key_value_heads: 2, head_dim: 256, attention_bias: false, attn_output_gate: true, linear_num_key_heads: 16, linear_num_value_heads: 16, linear_key_head_dim: 128, linear_value_head_dim: 128, linear_conv_kernel_dim: 4, full_attention_interval: 4, rms_norm_eps: 1e-6, vocab_size: 248320, max_position_embeddings: 262144, tie_word_embeddings: true, eos_token_id: 248044, dtype: 'bfloat16', mtp_num_hidden_layers: 1, mlp_only_layers: [], rope_parameters: { mrope_interleaved: true, mrope_section: [11, 11, 10], rope_type: 'default', rope_theta: 10000000, partial_rotary_factor: 0.25 } } } },
  // the Hub's Qwen3_5ForConditionalGeneration format: the language model in text_config (vision tower not planned).
  // Public model pages give 24 layers, hidden 2048, 8 query and 2 KV heads, 6 full-attention layers (every 4th), vocab
  // 248320, tied embeddings, as the 0.8B's config; intermediate_size 6144 and the linear layers' 16 x 128 key and value
  // heads were not found in the sources searched (the 0.8B's linear heads; ~1.88B text parameters, 3.5 GiB in bf16).
  { name: 'Qwen3.5-2B', targetGiB: 4, json: { architectures: ['Qwen3_5ForConditionalGeneration'], model_type: 'qwen3_5', tie_word_embeddings: true, image_token_id: 248056, video_token_id: 248057, vision_config: { depth: 12, hidden_size: 768, out_hidden_size: 2048 }, text_config: { model_type: 'qwen3_5_text', hidden_size: 2048, intermediate_size: 6144, num_hidden_layers: 24, num_attention_heads: 8, num_key_value_heads: 2, head_dim: 256, attention_bias: false, attn_output_gate: true, linear_num_key_heads: 16, linear_num_value_heads: 16, linear_key_head_dim: 128, linear_value_head_dim: 128, linear_conv_kernel_dim: 4, full_attention_interval: 4, rms_norm_eps: 1e-6, vocab_size: 248320, max_position_embeddings: 262144, tie_word_embeddings: true, eos_token_id: 248044, dtype: 'bfloat16', mtp_num_hidden_layers: 1, mlp_only_layers: [], rope_parameters: { mrope_interleaved: true, mrope_section: [11, 11, 10], rope_type: 'default', rope_theta: 10000000, partial_rotary_factor: 0.25 } } } },
  { name: 'Llama-3.2-1B', targetGiB: 4, json: { model_type: 'llama', architectures: ['LlamaForCausalLM'], hidden_size: 2048, intermediate_size: 8192, num_hidden_layers: 16, num_attention_heads: 32, num_key_value_heads: 8, head_dim: 64, vocab_size: 128256, max_position_embeddings: 131072, tie_word_embeddings: true, torch_dtype: 'bfloat16', rope_theta: 500000, rope_scaling: { rope_type: 'llama3', factor: 32, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 8192 } } },
  // google/gemma-4-E2B's config.json (a gemma4 checkpoint; its text_config). Planned exactly over its own model
  // (gemma4_gpu.ts; its PLE table kept in host memory, as no buffer holds it), beside gemma4_memory.ts's floor.
  { name: 'Gemma-4-E2B', targetGiB: 4, json: {
    architectures: ['Gemma4ForConditionalGeneration'], model_type: 'gemma4', tie_word_embeddings: true, eos_token_id: [1, 106], torch_dtype: 'bfloat16',
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
  } },
];

const QWEN3 = { model_type: 'qwen3', architectures: ['Qwen3ForCausalLM'], rope_theta: 1000000, rms_norm_eps: 1e-6, head_dim: 128, vocab_size: 151936, max_position_embeddings: 40960, tie_word_embeddings: true };

/** GGUF files as people have them (issue 26's targets): the matrices stay in their block format on the GPU. */
export const QUANT_PLAN_MODELS: { name: string; fileType: GgufFileType; json: Record<string, unknown>; targetGiB: number }[] = [
  { name: 'Qwen3-1.7B', fileType: 'Q4_K_M', targetGiB: 2, json: { ...QWEN3, hidden_size: 2048, intermediate_size: 6144, num_hidden_layers: 28, num_attention_heads: 16, num_key_value_heads: 8 } },
  { name: 'Qwen3-4B', fileType: 'Q4_K_M', targetGiB: 3.5, json: { ...QWEN3, hidden_size: 2560, intermediate_size: 9728, num_hidden_layers: 36, num_attention_heads: 32, num_key_value_heads: 8 } },
  { name: 'Llama-3.2-3B', fileType: 'Q4_K_M', targetGiB: 3, json: { model_type: 'llama', architectures: ['LlamaForCausalLM'], hidden_size: 3072, intermediate_size: 8192, num_hidden_layers: 28, num_attention_heads: 24, num_key_value_heads: 8, head_dim: 128, vocab_size: 128256, max_position_embeddings: 131072, tie_word_embeddings: true, rope_theta: 500000, rope_scaling: { rope_type: 'llama3', factor: 32, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 8192 } } },
  { name: 'Qwen3-0.6B', fileType: 'Q8_0', targetGiB: 1.75, json: { ...QWEN3, hidden_size: 1024, intermediate_size: 3072, num_hidden_layers: 28, num_attention_heads: 16, num_key_value_heads: 8 } },
];

export const GSM8K_STEP: Partial<GrpoConfig> = { prompts_per_step: 4, num_generations: 8, max_prompt_length: 192, max_completion_length: 256 };
export const PLAN_BUDGET = 2.5 * GIB;

export interface MemoryPlanBench {
  model: string;
  structural: boolean;
  /** null where there is no "before" design (Gemma 4, planned only since its own model trains) */
  before: { peak_bytes: number; largest_buffer_bytes: number; largest_buffer: string; base: string } | null;
  after: {
    peak_bytes: number; largest_buffer_bytes: number; largest_buffer: string; base: string; fits_budget: boolean;
    budget_bytes: number; layout: unknown;
    /** Gemma 4: recomputation, the embedding table in host memory, and the plan's parts */
    recompute?: 'on' | 'off'; embed_on_host?: boolean; breakdown?: MemoryPlan['breakdown'];
  } | null;
  /** Gemma 4: the step's floor (gemma4_memory.ts) with the PLE table on the GPU and kept on the host, and why */
  floor?: { ple_on_gpu: Gemma4MemoryFloor; ple_on_host: Gemma4MemoryFloor; note: string };
  target_bytes: number | null;
  meets_target: boolean | null;
}

/** Gemma 4's row: the exact plan (choosePlan over Gemma 4's own model, 16-bit base as the other rows' "after"; the
 * PLE table in host memory, since no buffer can hold it), the floor with the table on the GPU and on the host, and a
 * note saying what the target needs. */
export async function gemma4Row(name: string, config: ModelConfig, grpo: GrpoConfig, targetGiB: number | undefined): Promise<MemoryPlanBench> {
  const storage = { basePrecision: 'auto' as const, fileDtype: 'bf16' };
  const onGpu = gemma4MemoryFloor(config, grpo, { storage });
  const onHost = gemma4MemoryFloor(config, grpo, { storage, pleOnHost: true });
  const target = targetGiB !== undefined ? targetGiB * GIB : null;
  const budget = target ?? PLAN_BUDGET;
  const after = await choosePlan(config, grpo, { budgetBytes: budget, storage });
  const gib = (b: number) => `${(b / GIB).toFixed(2)} GiB`;
  const b = after.breakdown;
  const meets = target === null ? null : after.peakBytes <= target && after.largestBufferBytes <= GIB;
  const note = `exact plan: ${gib(after.peakBytes)} (weights ${gib(b.weights)} in ${after.basePrecision}, LoRA + Adam ${gib(b.loraAdam)}, ` +
    `KV caches ${gib(b.kvCache)} in ${after.kvPrecision}, activations and the rest ${gib(b.activations)}), layout ${JSON.stringify(after.layout)}, ` +
    `recompute ${after.recompute}. The PLE table is ${gib(onGpu.pleTable)} and the embedding table (tied to the LM head) ${gib(onGpu.embedTable)}; ` +
    `without the PLE table the ${onHost.basePrecision} weights alone are ${gib(onHost.weights)}, without both ${gib(onHost.weights - onHost.embedTable)}` +
    (meets === false
      ? `; the plan is ${gib(after.peakBytes - target!)} over the ${targetGiB} GiB target in its smallest layout: the activations and the ` +
        `rest (largest buffer ${gib(after.largestBufferBytes)}, ${after.largestBufferLabel}) on top of the weights.`
      : '.');
  return {
    model: name, structural: false, before: null,
    after: {
      peak_bytes: after.peakBytes, largest_buffer_bytes: after.largestBufferBytes, largest_buffer: after.largestBufferLabel,
      base: after.basePrecision, fits_budget: after.fits, budget_bytes: budget, layout: after.layout,
      recompute: after.recompute, embed_on_host: !!after.embedOnHost, breakdown: after.breakdown,
    },
    floor: { ple_on_gpu: onGpu, ple_on_host: onHost, note },
    target_bytes: target,
    meets_target: meets,
  };
}

function modelConfig(json: Record<string, unknown>, name: string): { config: ModelConfig; structural: boolean } {
  try {
    return { config: parseHfConfig(json, `${name} config`), structural: false };
  } catch (e) {
    if (!/is not supported/.test((e as Error).message)) throw e;
    return { config: structuralConfig(json, `${name} config`), structural: true };
  }
}

export async function benchMemoryPlans(log: (s: string) => void): Promise<MemoryPlanBench[]> {
  const out: MemoryPlanBench[] = [];
  const grpo: GrpoConfig = { ...defaultConfig(), ...GSM8K_STEP };
  for (const m of PLAN_MODELS) {
    const { config, structural } = modelConfig(m.json, m.name);
    if (config.gemma4) {
      const row = await gemma4Row(m.name, config, grpo, m.targetGiB);
      log(`memory plan ${m.name}: ${row.floor!.note}`);
      out.push(row);
      continue;
    }
    const fileDtype = 'bf16';
    // before: today's design before the real-models issue (f32 base and KV caches, full logits, every layer kept)
    const before = await measureStep(config, { ...grpo, kv_precision: 'f32' }, undefined, {
      storage: { basePrecision: 'f32', fileDtype }, lmHeadChunkBytes: Infinity, inferenceKeepsLayers: true,
      limits: { maxBufferSize: 2 ** 53, maxStorageBufferBindingSize: 2 ** 53 },
    });
    const storage = { basePrecision: 'auto' as const, fileDtype };
    const budget = m.targetGiB !== undefined ? m.targetGiB * GIB : PLAN_BUDGET;
    const after = await choosePlan(config, grpo, { budgetBytes: budget, storage });
    const target = m.targetGiB !== undefined ? m.targetGiB * GIB : null;
    const row: MemoryPlanBench = {
      model: m.name,
      structural,
      before: { peak_bytes: before.peakBytes, largest_buffer_bytes: before.largestBufferBytes, largest_buffer: before.largestBufferLabel, base: 'f32' },
      after: {
        peak_bytes: after.peakBytes, largest_buffer_bytes: after.largestBufferBytes, largest_buffer: after.largestBufferLabel,
        base: resolveBasePrecision(config, storage), fits_budget: after.fits, budget_bytes: budget, layout: after.layout,
      },
      target_bytes: target,
      meets_target: target === null ? null : after.peakBytes <= target && after.largestBufferBytes <= GIB,
    };
    log(`memory plan ${m.name}${structural ? ' (structural)' : ''}: before ${(before.peakBytes / GIB).toFixed(2)} GiB ` +
      `(largest ${(before.largestBufferBytes / GIB).toFixed(2)} GiB ${before.largestBufferLabel}), after ${(after.peakBytes / GIB).toFixed(2)} GiB ` +
      `(largest ${(after.largestBufferBytes / GIB).toFixed(2)} GiB ${after.largestBufferLabel}), layout ${JSON.stringify(after.layout)}`);
    out.push(row);
  }
  for (const m of QUANT_PLAN_MODELS) {
    const config = parseHfConfig(m.json, `${m.name} config`);
    const quant = llamaCppQuantTypes(config, m.fileType);
    const fileDtype = [...new Set([...quant.values()].map((t) => t.toLowerCase())), 'f32'].sort().join('+');
    const storage = { basePrecision: 'auto' as const, fileDtype, quant };
    const target = m.targetGiB * GIB;
    const after = await choosePlan(config, grpo, { budgetBytes: target, storage });
    out.push({
      model: `${m.name} ${m.fileType}`,
      structural: false,
      before: { peak_bytes: NaN, largest_buffer_bytes: NaN, largest_buffer: '', base: '' },
      after: {
        peak_bytes: after.peakBytes, largest_buffer_bytes: after.largestBufferBytes, largest_buffer: after.largestBufferLabel,
        base: `${m.fileType} (${fileDtype})`, fits_budget: after.fits, budget_bytes: target, layout: after.layout,
      },
      target_bytes: target,
      meets_target: after.peakBytes <= target && after.largestBufferBytes <= GIB,
    });
    log(`memory plan ${m.name} ${m.fileType}: ${(after.peakBytes / GIB).toFixed(2)} GiB (weights ${(after.breakdown.weights / GIB).toFixed(2)} GiB; ` +
      `largest ${(after.largestBufferBytes / GIB).toFixed(2)} GiB ${after.largestBufferLabel}), layout ${JSON.stringify(after.layout)}, target ${m.targetGiB} GiB`);
  }
  return out;
}
