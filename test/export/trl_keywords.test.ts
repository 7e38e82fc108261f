// The exported TRL script runs on today's TRL: every generated script (default config, each loss type,
// each preset, RLOO, the new fields) compiles with `python3 -m py_compile`, and every keyword it passes to
// GRPOConfig / RLOOConfig / LoraConfig / the trainers is a field of the version named below.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { fillTemplate, trlScript } from '../../src/export/trl_script';
import { LOSS_TYPES, defaultConfig, type GrpoConfig } from '../../src/grpo/config';
import { PRESETS, applyPreset } from '../../src/grpo/presets';

// TRL v1.9.0 (tag v1.9.0), trl/trainer/grpo_config.py: the fields GRPOConfig declares.
const TRL_GRPO_CONFIG = [
  'learning_rate', 'model_init_kwargs', 'trust_remote_code', 'router_aux_loss_coef', 'disable_dropout', 'cast_lm_head_to_fp32',
  'remove_unused_columns', 'num_generations', 'num_generations_eval', 'max_completion_length', 'ds3_gather_for_generation',
  'shuffle_dataset', 'pad_to_multiple_of', 'generation_batch_size', 'steps_per_generation', 'temperature', 'top_p', 'top_k', 'min_p',
  'generation_kwargs', 'chat_template_kwargs', 'repetition_penalty', 'cache_implementation', 'use_vllm', 'vllm_mode', 'vllm_model_impl',
  'vllm_enable_sleep_mode', 'vllm_structured_outputs_regex', 'vllm_server_base_url', 'vllm_server_host', 'vllm_server_port',
  'vllm_server_timeout', 'vllm_group_port', 'vllm_gpu_memory_utilization', 'vllm_max_model_length', 'vllm_tensor_parallel_size', 'beta',
  'num_iterations', 'epsilon', 'delta', 'epsilon_high', 'sapo_temperature_neg', 'sapo_temperature_pos', 'vespo_k_pos', 'vespo_lambda_pos',
  'vespo_k_neg', 'vespo_lambda_neg', 'importance_sampling_level', 'reward_weights', 'multi_objective_aggregation', 'scale_rewards',
  'loss_type', 'mask_truncated_completions', 'sync_ref_model', 'ref_model_mixup_alpha', 'ref_model_sync_steps', 'top_entropy_quantile',
  'entropy_coef', 'use_adaptive_entropy', 'entropy_coef_min', 'entropy_coef_max', 'entropy_coef_delta', 'entropy_target',
  'max_tool_calling_iterations', 'vllm_importance_sampling_correction', 'vllm_importance_sampling_mode', 'vllm_importance_sampling_clip_max',
  'vllm_importance_sampling_clip_min', 'off_policy_mask_threshold', 'use_bias_correction_kl', 'log_completions', 'log_multimodal',
  'num_completions_to_print', 'log_unique_prompts', 'log_completions_hub_repo', 'use_transformers_continuous_batching',
  'transformers_continuous_batching_config', 'use_transformers_paged', 'vllm_importance_sampling_cap',
];
// TRL v1.9.0, trl/trainer/rloo_config.py: the fields RLOOConfig declares.
const TRL_RLOO_CONFIG = [
  'learning_rate', 'model_init_kwargs', 'trust_remote_code', 'router_aux_loss_coef', 'disable_dropout', 'remove_unused_columns',
  'num_generations', 'num_generations_eval', 'max_completion_length', 'ds3_gather_for_generation', 'shuffle_dataset', 'pad_to_multiple_of',
  'generation_batch_size', 'steps_per_generation', 'temperature', 'top_p', 'top_k', 'min_p', 'generation_kwargs', 'chat_template_kwargs',
  'repetition_penalty', 'cache_implementation', 'use_vllm', 'vllm_mode', 'vllm_model_impl', 'vllm_enable_sleep_mode',
  'vllm_structured_outputs_regex', 'vllm_server_base_url', 'vllm_server_host', 'vllm_server_port', 'vllm_server_timeout', 'vllm_group_port',
  'vllm_gpu_memory_utilization', 'vllm_max_model_length', 'vllm_tensor_parallel_size', 'beta', 'num_iterations', 'epsilon', 'epsilon_high',
  'reward_weights', 'normalize_advantages', 'reward_clip_range', 'mask_truncated_completions', 'sync_ref_model', 'ref_model_mixup_alpha',
  'ref_model_sync_steps', 'log_completions', 'log_multimodal', 'num_completions_to_print', 'log_unique_prompts',
  'use_transformers_continuous_batching', 'transformers_continuous_batching_config', 'use_transformers_paged',
];
// TRL v1.9.0, trl/trainer/base_config.py: _BaseConfig (both configs' parent) overrides these TrainingArguments fields.
const TRL_BASE_CONFIG = ['logging_steps', 'gradient_checkpointing', 'bf16', 'lr_scheduler_kwargs', 'use_liger_kernel', 'torch_empty_cache_steps'];
// transformers v5 (main at commit 00349ae), src/transformers/training_args.py: TrainingArguments' documented
// parameters. warmup_ratio and logging_dir are gone (deprecated in v5); warmup_steps takes their place.
const TRAINING_ARGUMENTS = [
  'output_dir', 'per_device_train_batch_size', 'num_train_epochs', 'max_steps', 'learning_rate', 'lr_scheduler_type', 'lr_scheduler_kwargs',
  'warmup_steps', 'optim', 'optim_args', 'weight_decay', 'adam_beta1', 'adam_beta2', 'adam_epsilon', 'optim_target_modules',
  'gradient_accumulation_steps', 'average_tokens_across_devices', 'max_grad_norm', 'label_smoothing_factor', 'bf16', 'fp16',
  'bf16_full_eval', 'fp16_full_eval', 'tf32', 'gradient_checkpointing', 'gradient_checkpointing_kwargs', 'torch_compile',
  'torch_compile_backend', 'torch_compile_mode', 'use_liger_kernel', 'liger_kernel_config', 'use_cache', 'neftune_noise_alpha',
  'torch_empty_cache_steps', 'auto_find_batch_size', 'logging_strategy', 'logging_steps', 'logging_first_step', 'log_on_each_node',
  'logging_nan_inf_filter', 'include_num_input_tokens_seen', 'log_level', 'log_level_replica', 'disable_tqdm', 'report_to', 'run_name',
  'project', 'trackio_space_id', 'eval_strategy', 'eval_steps', 'eval_delay', 'per_device_eval_batch_size', 'prediction_loss_only',
  'eval_on_start', 'eval_do_concat_batches', 'eval_use_gather_object', 'eval_accumulation_steps', 'include_for_metrics',
  'batch_eval_metrics', 'save_only_model', 'save_strategy', 'save_steps', 'save_on_each_node', 'save_total_limit', 'enable_jit_checkpoint',
  'push_to_hub', 'hub_token', 'hub_private_repo', 'hub_model_id', 'hub_strategy', 'hub_always_push', 'hub_revision',
  'load_best_model_at_end', 'metric_for_best_model', 'greater_is_better', 'ignore_data_skip', 'restore_callback_states_from_checkpoint',
  'full_determinism', 'seed', 'data_seed', 'use_cpu', 'accelerator_config', 'parallelism_config', 'dataloader_drop_last',
  'dataloader_num_workers', 'dataloader_pin_memory', 'dataloader_persistent_workers', 'dataloader_prefetch_factor', 'remove_unused_columns',
  'label_names', 'train_sampling_strategy', 'length_column_name', 'ddp_find_unused_parameters', 'ddp_bucket_cap_mb',
  'ddp_broadcast_buffers', 'ddp_backend', 'ddp_timeout', 'fsdp', 'fsdp_config', 'deepspeed', 'debug', 'skip_memory_metrics', 'do_train',
  'do_eval', 'do_predict', 'resume_from_checkpoint',
];
// PEFT v0.20.0, src/peft/tuners/lora/config.py (LoraConfig) and src/peft/config.py (PeftConfig).
const PEFT_LORA_CONFIG = [
  'r', 'target_modules', 'exclude_modules', 'lora_alpha', 'lora_dropout', 'fan_in_fan_out', 'bias', 'use_rslora', 'modules_to_save',
  'init_lora_weights', 'layers_to_transform', 'layers_pattern', 'rank_pattern', 'alpha_pattern', 'megatron_config', 'megatron_core',
  'trainable_token_indices', 'loftq_config', 'eva_config', 'corda_config', 'lora_ga_config', 'use_dora', 'velora_config',
  'alora_invocation_tokens', 'use_qalora', 'qalora_group_size', 'monteclora_config', 'layer_replication', 'runtime_config', 'lora_bias',
  'target_parameters', 'use_bdlora', 'arrow_config', 'kasa_config', 'ensure_weight_tying',
  'base_model_name_or_path', 'revision', 'peft_type', 'task_type', 'inference_mode',
];
// TRL v1.9.0 GRPOTrainer.__init__ / RLOOTrainer.__init__ parameters.
const TRAINER_PARAMS = [
  'model', 'reward_funcs', 'args', 'train_dataset', 'eval_dataset', 'processing_class', 'reward_processing_classes', 'callbacks',
  'optimizers', 'quantization_config', 'peft_config',
];
// TRL v1.9 (commit f2cd577): the fields the preference trainers' configs declare (each a _BaseConfig, so
// TrainingArguments' fields too): trl/trainer/dpo_config.py, trl/experimental/cpo/cpo_config.py,
// trl/experimental/orpo/orpo_config.py, trl/trainer/kto_config.py; and their trainers' __init__ parameters.
const TRL_DPO_CONFIG = [
  'learning_rate', 'model_init_kwargs', 'trust_remote_code', 'router_aux_loss_coef', 'disable_dropout', 'dataset_num_proc', 'max_length',
  'truncation_mode', 'padding_free', 'pad_to_multiple_of', 'precompute_ref_log_probs', 'precompute_ref_batch_size', 'loss_type',
  'loss_weights', 'ld_alpha', 'f_divergence_type', 'f_alpha_divergence_coef', 'label_smoothing', 'beta', 'use_weighting', 'discopop_tau',
  'activation_offloading', 'sync_ref_model', 'ref_model_mixup_alpha', 'ref_model_sync_steps', 'pad_token',
];
const TRL_CPO_CONFIG = [
  'learning_rate', 'max_length', 'max_completion_length', 'beta', 'label_smoothing', 'loss_type', 'disable_dropout', 'cpo_alpha',
  'simpo_gamma', 'alpha', 'generate_during_eval', 'is_encoder_decoder', 'model_init_kwargs', 'trust_remote_code', 'dataset_num_proc',
];
const TRL_ORPO_CONFIG = [
  'learning_rate', 'max_length', 'max_completion_length', 'beta', 'disable_dropout', 'padding_value', 'generate_during_eval',
  'is_encoder_decoder', 'model_init_kwargs', 'trust_remote_code', 'dataset_num_proc',
];
const TRL_KTO_CONFIG = [
  'learning_rate', 'train_sampling_strategy', 'model_init_kwargs', 'trust_remote_code', 'router_aux_loss_coef', 'disable_dropout',
  'dataset_num_proc', 'max_length', 'pad_to_multiple_of', 'precompute_ref_log_probs', 'precompute_ref_batch_size', 'loss_type', 'beta',
  'desirable_weight', 'undesirable_weight', 'activation_offloading', 'sync_ref_model', 'ref_model_mixup_alpha', 'ref_model_sync_steps',
];
const TRL_ONLINE_DPO_CONFIG = [
  'learning_rate', 'remove_unused_columns', 'reward_model_path', 'max_new_tokens', 'max_length', 'temperature', 'top_p', 'top_k', 'min_p',
  'repetition_penalty', 'generation_kwargs', 'cache_implementation', 'missing_eos_penalty', 'beta', 'loss_type', 'disable_dropout',
  'use_vllm', 'vllm_model_impl', 'vllm_structured_outputs_regex', 'vllm_gpu_memory_utilization', 'vllm_mode', 'vllm_server_base_url',
  'vllm_server_host', 'vllm_server_port', 'vllm_server_timeout', 'vllm_group_port', 'vllm_tensor_parallel_size', 'vllm_enable_sleep_mode',
  'ds3_gather_for_generation', 'model_init_kwargs', 'trust_remote_code', 'reward_weights',
];
const ONLINE_DPO_TRAINER_PARAMS = [
  'model', 'ref_model', 'reward_funcs', 'args', 'data_collator', 'train_dataset', 'eval_dataset', 'processing_class',
  'reward_processing_classes', 'peft_config', 'compute_metrics', 'callbacks', 'optimizers', 'preprocess_logits_for_metrics',
];
const DPO_KTO_TRAINER_PARAMS = [
  'model', 'ref_model', 'args', 'data_collator', 'train_dataset', 'eval_dataset', 'processing_class', 'compute_metrics', 'callbacks',
  'optimizers', 'quantization_config', 'peft_config',
];
const CPO_ORPO_TRAINER_PARAMS = [
  'model', 'args', 'data_collator', 'train_dataset', 'eval_dataset', 'processing_class', 'model_init', 'callbacks', 'optimizers',
  'preprocess_logits_for_metrics', 'peft_config', 'compute_metrics',
];

// TRL main (commit 016013e, 2026), trl/trainer/sft_config.py: the fields SFTConfig declares (a _BaseConfig, so
// TrainingArguments' fields too); SFTTrainer.__init__'s parameters (trl/trainer/sft_trainer.py).
const TRL_SFT_CONFIG = [
  'learning_rate', 'model_init_kwargs', 'chat_template_path', 'dataset_text_field', 'dataset_kwargs', 'dataset_num_proc', 'eos_token',
  'max_length', 'truncation_mode', 'shuffle_dataset', 'packing', 'packing_strategy', 'padding_free', 'pad_to_multiple_of', 'eval_packing',
  'completion_only_loss', 'assistant_only_loss', 'loss_type', 'activation_offloading', 'pad_token',
];
const SFT_TRAINER_PARAMS = [
  'model', 'args', 'data_collator', 'train_dataset', 'eval_dataset', 'processing_class', 'compute_loss_func', 'compute_metrics', 'callbacks',
  'optimizers', 'optimizer_cls_and_kwargs', 'preprocess_logits_for_metrics', 'peft_config', 'formatting_func',
];

/** Keywords that older exports passed and today's versions refuse or deprecate. */
const REMOVED = ['max_prompt_length', 'warmup_ratio', 'logging_dir', 'torch_dtype'];
// transformers v5, src/transformers/utils/quantization_config.py: BitsAndBytesConfig.__init__'s parameters.
const BNB_CONFIG = [
  'load_in_8bit', 'load_in_4bit', 'llm_int8_threshold', 'llm_int8_skip_modules', 'llm_int8_enable_fp32_cpu_offload',
  'llm_int8_has_fp16_weight', 'bnb_4bit_compute_dtype', 'bnb_4bit_quant_type', 'bnb_4bit_use_double_quant', 'bnb_4bit_quant_storage',
];

const ALLOWED: Record<string, string[]> = {
  GRPOConfig: [...TRL_GRPO_CONFIG, ...TRL_BASE_CONFIG, ...TRAINING_ARGUMENTS],
  RLOOConfig: [...TRL_RLOO_CONFIG, ...TRL_BASE_CONFIG, ...TRAINING_ARGUMENTS],
  LoraConfig: PEFT_LORA_CONFIG,
  GRPOTrainer: TRAINER_PARAMS,
  RLOOTrainer: TRAINER_PARAMS,
  DPOConfig: [...TRL_DPO_CONFIG, ...TRL_BASE_CONFIG, ...TRAINING_ARGUMENTS],
  CPOConfig: [...TRL_CPO_CONFIG, ...TRL_BASE_CONFIG, ...TRAINING_ARGUMENTS],
  ORPOConfig: [...TRL_ORPO_CONFIG, ...TRL_BASE_CONFIG, ...TRAINING_ARGUMENTS],
  KTOConfig: [...TRL_KTO_CONFIG, ...TRL_BASE_CONFIG, ...TRAINING_ARGUMENTS],
  DPOTrainer: DPO_KTO_TRAINER_PARAMS,
  KTOTrainer: DPO_KTO_TRAINER_PARAMS,
  CPOTrainer: CPO_ORPO_TRAINER_PARAMS,
  ORPOTrainer: CPO_ORPO_TRAINER_PARAMS,
  OnlineDPOConfig: [...TRL_ONLINE_DPO_CONFIG, ...TRL_BASE_CONFIG, ...TRAINING_ARGUMENTS],
  OnlineDPOTrainer: ONLINE_DPO_TRAINER_PARAMS,
  BitsAndBytesConfig: BNB_CONFIG,
  SFTConfig: [...TRL_SFT_CONFIG, ...TRL_BASE_CONFIG, ...TRAINING_ARGUMENTS],
  SFTTrainer: SFT_TRAINER_PARAMS,
};

const python = spawnSync('python3', ['--version']).status === 0;

/** Compiles each script with py_compile and returns, per script, the keywords of every call by callee name. */
function analyse(scripts: Record<string, string>): Record<string, { compiled: string | null; calls: Record<string, string[][]> }> {
  const dir = mkdtempSync(join(tmpdir(), 'trl-export-'));
  const files: Record<string, string> = {};
  for (const [name, text] of Object.entries(scripts)) writeFileSync((files[name] = join(dir, `${name}.py`)), text);
  const program = `
import ast, json, py_compile, sys
out = {}
for name, path in json.loads(sys.stdin.read()).items():
    try:
        py_compile.compile(path, doraise=True)
        compiled = None
    except py_compile.PyCompileError as e:
        compiled = str(e)
    calls = {}
    for node in ast.walk(ast.parse(open(path).read())):
        if isinstance(node, ast.Call):
            f = node.func
            callee = f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else None
            if callee:
                calls.setdefault(callee, []).append([k.arg for k in node.keywords if k.arg is not None])
    out[name] = {"compiled": compiled, "calls": calls}
print(json.dumps(out))
`;
  const r = spawnSync('python3', ['-c', program], { input: JSON.stringify(files), encoding: 'utf8' });
  expect(r.stderr).toBe('');
  return JSON.parse(r.stdout);
}

function script(config: GrpoConfig, dataset: Parameters<typeof trlScript>[0]['dataset'] = { name: 'data.jsonl', format: 'jsonl', promptColumn: 'prompt', answerColumn: 'answer' }) {
  return trlScript({ config, modelName: 'HuggingFaceTB/SmolLM2-135M', dataset, stepsTrained: 10 });
}

const CONFIGS: Record<string, GrpoConfig> = {
  default: defaultConfig(),
  ...Object.fromEntries(LOSS_TYPES.map((l) => [`loss_${l}`, { ...defaultConfig(), loss_type: l }])),
  ...Object.fromEntries(PRESETS.map((p) => [`preset_${p.id}`, applyPreset(defaultConfig(), p.id)])),
  rloo: { ...defaultConfig(), advantage_estimator: 'rloo', loss_type: 'grpo', scale_rewards: 'none' },
  reinforce_pp: { ...defaultConfig(), advantage_estimator: 'reinforce_pp' },
  expert_iteration: { ...defaultConfig(), algorithm: 'expert_iteration' },
  new_fields: {
    ...defaultConfig(),
    importance_sampling_level: 'sequence',
    loss_type: 'grpo',
    delta: 4,
    top_entropy_quantile: 0.2,
    entropy_coef: 0.001,
    steps_per_generation: 4,
    gradient_accumulation_steps: 2,
    multi_objective_aggregation: 'normalize_then_sum',
    num_generations_eval: 4,
    eval_temperature: 1,
    base_precision: 'bf16',
    warmup_ratio: 0.1,
    lr_scheduler_type: 'cosine',
    long_prompts: 'skip',
    max_consecutive_skips: 7,
  },
  nf4: { ...defaultConfig(), base_precision: 'nf4' },
  nf4_dq: { ...defaultConfig(), base_precision: 'nf4_dq' },
  no_eval_no_checkpoints: { ...defaultConfig(), eval_split: 0, checkpoint_interval: 0, system_prompt: 'Be brief.', prompt_template: 'Q: {prompt}\nA:' },
  custom_reward: { ...defaultConfig(), reward_funcs: [{ name: 'custom', weight: 1, params: { source: '(p, c) => {{ "x" }}.length' } }, { name: 'format', weight: 0.5, params: {} }] },
  majority_vote: { ...defaultConfig(), reward_funcs: [{ name: 'majority_vote', weight: 1, params: { extract: 'tag', case_sensitive: true } }, { name: 'exact_match', weight: 1, params: {} }] },
};

describe.skipIf(!python)('the exported TRL script on TRL v1.9 / transformers v5 / PEFT 0.20', () => {
  const scripts = Object.fromEntries(Object.entries(CONFIGS).map(([k, c]) => [k, script(c)]));
  scripts.tsv_renamed = script(defaultConfig(), { name: 'gsm8k.tsv', format: 'tsv', promptColumn: 'question', answerColumn: 'solution' });
  const results = analyse(scripts);

  test('every script compiles (python3 -m py_compile)', () => {
    for (const [name, r] of Object.entries(results)) expect(r.compiled, name).toBeNull();
  });

  test('every keyword passed to GRPOConfig, RLOOConfig, LoraConfig and the trainers is a field of those versions', () => {
    for (const [name, r] of Object.entries(results)) {
      const used = Object.keys(r.calls).filter((c) => c in ALLOWED);
      // one trainer config, one LoraConfig (and a BitsAndBytesConfig for an nf4 base)
      expect(used.filter((c) => c.endsWith('Config') && c !== 'BitsAndBytesConfig').length, name).toBe(2);
      for (const callee of used) {
        for (const kws of r.calls[callee]) {
          for (const kw of kws) {
            expect(ALLOWED[callee], `${name}: ${callee}(${kw}=...)`).toContain(kw);
            expect(REMOVED, `${name}: ${callee}(${kw}=...)`).not.toContain(kw);
          }
        }
      }
      for (const kws of r.calls.from_pretrained ?? []) for (const kw of kws) expect(REMOVED, `${name}: from_pretrained(${kw}=...)`).not.toContain(kw);
    }
  });

  test('the new fields go to TRL by name; RLOO runs RLOOTrainer; what TRL lacks is listed and done where the script can', () => {
    const kw = (name: string, callee: string) => results[name].calls[callee]?.flat() ?? [];
    expect(kw('new_fields', 'GRPOConfig')).toEqual(expect.arrayContaining(['importance_sampling_level', 'delta', 'top_entropy_quantile', 'entropy_coef', 'steps_per_generation', 'multi_objective_aggregation', 'num_generations_eval', 'warmup_steps']));
    expect(scripts.new_fields).toContain('steps_per_generation=8,'); // 4 optimizer steps × 2 micro-batches each
    expect(scripts.new_fields).toContain('warmup_steps=10,');
    expect(kw('rloo', 'RLOOTrainer')).toContain('reward_funcs');
    expect(kw('rloo', 'GRPOConfig')).toEqual([]);
    expect(scripts.rloo).toContain('from trl import RLOOConfig, RLOOTrainer');
    for (const s of Object.values(scripts)) {
      expect(s).not.toMatch(/\{\{\w+\}\}/);
      expect(s).toContain('#   long_prompts = ');
      expect(s).toContain('#   max_consecutive_skips = ');
      expect(s).toContain('#   dynamic_sampling = ');
    }
    expect(scripts.new_fields).toContain('LONG_PROMPTS = "skip"');
    expect(scripts.new_fields).toContain('MAX_CONSECUTIVE_SKIPS = 7');
    expect(scripts.new_fields).toContain('BASE_DTYPE = "bfloat16"');
    // base_precision nf4 / nf4_dq: QLoRA's BitsAndBytesConfig, passed to from_pretrained; none otherwise
    for (const [name, dq] of [['nf4', 'False'], ['nf4_dq', 'True']]) {
      expect(kw(name, 'BitsAndBytesConfig').sort()).toEqual(['bnb_4bit_compute_dtype', 'bnb_4bit_quant_type', 'bnb_4bit_use_double_quant', 'load_in_4bit']);
      expect(scripts[name]).toContain('bnb_4bit_quant_type="nf4",');
      expect(scripts[name]).toContain(`bnb_4bit_use_double_quant=${dq},`);
      expect(scripts[name]).toContain('bnb_4bit_compute_dtype=torch.bfloat16,');
      expect(kw(name, 'from_pretrained')).toContain('quantization_config');
    }
    expect(kw('new_fields', 'BitsAndBytesConfig')).toEqual([]);
    expect(scripts.new_fields).toContain('QUANTIZATION_CONFIG = None');
    expect(scripts.reinforce_pp).toContain('REINFORCE++');
    expect(scripts.expert_iteration).toContain('ALGORITHM = "expert_iteration"');
    expect(scripts.tsv_renamed).toContain('dataset.rename_columns({"question": "prompt", "solution": "answer"})');
    expect(scripts.tsv_renamed).toContain('delimiter="\\t"');
  });

  test('the long-prompt map and the non-finite-loss callback behave as the playground does', () => {
    // run the script's own functions with a stand-in tokenizer (one token per character, no chat template)
    const s = scripts.new_fields;
    const body = s.slice(s.indexOf('def prompt_of(text):'), s.indexOf('dataset = dataset.map(to_prompt)'));
    const callback = s.slice(s.indexOf('class StopAfterNonFiniteLosses'), s.indexOf('training_args = '));
    const program = `
import json, math
class Tok:
    chat_template = None
    def __call__(self, text, add_special_tokens=True):
        return {"input_ids": ([0] if add_special_tokens else []) + [ord(c) for c in text]}
    def decode(self, ids):
        return "".join(chr(i) for i in ids)
class TrainerCallback: pass
tokenizer, CHAT, SYSTEM_PROMPT, PROMPT_TEMPLATE, MAX_PROMPT_LENGTH = Tok(), False, None, None, 8
${body}
${callback}
out = {}
for mode in ["truncate_left", "skip"]:
    LONG_PROMPTS = mode
    out[mode] = [to_prompt({"prompt": p, "answer": "1"}) for p in ["short", "0123456789abc"]]
class Control: should_training_stop = False
cb, control = StopAfterNonFiniteLosses(2), Control()
for loss in [1.0, float("nan"), 0.5, float("nan")]:
    cb.on_log(None, None, control, logs={"loss": loss})
out["stopped_after_isolated"] = control.should_training_stop
cb.on_log(None, None, control, logs={"loss": float("inf")})
out["stopped_after_two"] = control.should_training_stop
print(json.dumps(out))
`;
    const r = spawnSync('python3', ['-c', program], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^stopping: 2 non-finite losses in a row \(max_consecutive_skips = 2\)/);
    const out = JSON.parse(lines.at(-1)!);
    // BOS + 7 characters = 8 tokens: the end of the long prompt is kept
    expect(out.truncate_left[1]).toEqual({ prompt: '6789abc', answer: '1', too_long: true, keep: true });
    expect(out.truncate_left[0]).toEqual({ prompt: 'short', answer: '1', too_long: false, keep: true });
    expect(out.skip[1].keep).toBe(false);
    expect(out.skip[0].keep).toBe(true);
    expect(out.stopped_after_isolated).toBe(false);
    expect(out.stopped_after_two).toBe(true);
  });
});

test('fillTemplate fills by name and refuses a missing or an unused value', () => {
  expect(fillTemplate('a = {{x}}\nb = {{y}} {x}', { x: '1', y: '"{{z}}"' }, 't')).toBe('a = 1\nb = "{{z}}" {x}');
  expect(() => fillTemplate('{{x}} {{y}}', { x: '1' }, 't.py')).toThrow(/t\.py: no value for the placeholder \{\{y\}\}/);
  expect(() => fillTemplate('{{x}}', { x: '1', w: '2' }, 't.py')).toThrow(/no placeholder for w/);
});

describe.skipIf(!python)('the exported TRL scripts of the preference algorithms (TRL v1.9 DPOTrainer, CPOTrainer, ORPOTrainer, KTOTrainer, OnlineDPOTrainer)', () => {
  const pref = (over: Partial<GrpoConfig>) => ({ ...defaultConfig(), beta: 0.1, ...over });
  const pairs = { name: 'pairs.csv', format: 'csv', promptColumn: 'question', answerColumn: 'good', rejectedColumn: 'bad' };
  const scripts: Record<string, string> = {
    dpo: script(pref({ algorithm: 'dpo' }), pairs),
    dpo_robust_sft: script(pref({ algorithm: 'dpo', dpo_loss_type: 'robust', label_smoothing: 0.1, sft_loss_weight: 0.5, eval_split: 0 })),
    simpo: script(pref({ algorithm: 'simpo', beta: 2, simpo_gamma: 1, cpo_alpha: 0 })),
    orpo: script(pref({ algorithm: 'orpo' })),
    kto: script(pref({ algorithm: 'kto', desirable_weight: 1.33 }), { name: 'kto.jsonl', format: 'jsonl', promptColumn: 'prompt', answerColumn: 'completion', labelColumn: 'ok' }),
    online_dpo: script(pref({ algorithm: 'online_dpo', dpo_loss_type: 'ipo', missing_eos_penalty: 1 })),
    // names from outside that try to end the docstring, a comment or a string and run code
    hostile: trlScript({
      config: pref({ algorithm: 'dpo' }),
      modelName: 'org/m\\',
      modelSource: 'the folder x\nos.system("echo model")\r#',
      dataset: { name: 'd"""\nos.system("echo data")\n""".jsonl', format: 'jsonl', promptColumn: 'p"]\nos.system("echo col")#', answerColumn: 'chosen', rejectedColumn: 'rejected' },
      stepsTrained: 3,
    }),
  };
  const results = analyse(scripts);
  const kw = (name: string, callee: string) => results[name].calls[callee]?.flat() ?? [];

  test('each compiles and passes only keywords its trainer and config accept', () => {
    const trainerOf: Record<string, [string, string]> = {
      dpo: ['DPOTrainer', 'DPOConfig'], dpo_robust_sft: ['DPOTrainer', 'DPOConfig'], simpo: ['CPOTrainer', 'CPOConfig'], orpo: ['ORPOTrainer', 'ORPOConfig'], kto: ['KTOTrainer', 'KTOConfig'],
      online_dpo: ['OnlineDPOTrainer', 'OnlineDPOConfig'],
      hostile: ['DPOTrainer', 'DPOConfig'],
    };
    for (const [name, r] of Object.entries(results)) {
      expect(r.compiled, name).toBeNull();
      const [trainer, config] = trainerOf[name];
      expect(r.calls[trainer]?.length, `${name} calls ${trainer}`).toBe(1);
      expect(r.calls[config]?.length, `${name} calls ${config}`).toBe(1);
      for (const callee of [trainer, config, 'LoraConfig']) {
        for (const k of r.calls[callee].flat()) {
          expect(ALLOWED[callee], `${name}: ${callee}(${k}=...)`).toContain(k);
          expect(REMOVED, `${name}: ${callee}(${k}=...)`).not.toContain(k);
        }
      }
      expect(scripts[name]).not.toMatch(/\{\{\w+\}\}/);
    }
  });

  test('the settings reach TRL under its names', () => {
    expect(scripts.dpo).toContain('from trl import DPOConfig, DPOTrainer');
    expect(scripts.dpo).toContain('loss_type=["sigmoid"],');
    expect(scripts.dpo).toContain('precompute_ref_log_probs=True,');
    expect(scripts.dpo).toContain('dataset.rename_columns({"question": "prompt", "good": "chosen", "bad": "rejected"})');
    expect(scripts.dpo_robust_sft).toContain('loss_type=["robust", "sft"],');
    expect(scripts.dpo_robust_sft).toContain('loss_weights=[1, 0.5],');
    expect(scripts.dpo_robust_sft).toContain('label_smoothing=0.1,');
    expect(scripts.simpo).toContain('from trl.experimental.cpo import CPOConfig, CPOTrainer');
    expect(kw('simpo', 'CPOConfig')).toEqual(expect.arrayContaining(['loss_type', 'simpo_gamma', 'cpo_alpha', 'beta']));
    expect(scripts.simpo).toContain('loss_type="simpo",');
    expect(scripts.orpo).toContain('from trl.experimental.orpo import ORPOConfig, ORPOTrainer');
    expect(kw('kto', 'KTOConfig')).toEqual(expect.arrayContaining(['desirable_weight', 'undesirable_weight', 'train_sampling_strategy']));
    expect(scripts.kto).toContain('UNPAIRED = True');
    expect(scripts.kto).toContain('dataset.rename_columns({"ok": "label"})');
    // the hostile names stay text: the script compiles (above) and calls no os.system
    expect(results.hostile.calls.system).toBeUndefined();
    expect(scripts.online_dpo).toContain('from trl.experimental.online_dpo import OnlineDPOConfig, OnlineDPOTrainer');
    expect(kw('online_dpo', 'OnlineDPOConfig')).toEqual(expect.arrayContaining(['beta', 'loss_type', 'missing_eos_penalty', 'max_new_tokens', 'temperature']));
    expect(kw('online_dpo', 'OnlineDPOTrainer')).toContain('reward_funcs');
    expect(scripts.online_dpo).toContain('loss_type="ipo",');
    // the batch is counted in pairs, not in completions
    expect(scripts.dpo).toContain(`per_device_train_batch_size=${defaultConfig().prompts_per_step},`);
  });
});

describe('RLOO exports as TRL runs it (issue 24)', () => {
  test('RLOO without tools runs RLOOTrainer; with tools or an environment the export is refused (RLOOTrainer has no tools)', () => {
    const rloo = applyPreset(defaultConfig(), 'rloo');
    expect(script(rloo)).toContain('from trl import RLOOConfig, RLOOTrainer');
    expect(() => script({ ...rloo, tools_source: '[]' })).toThrow(/RLOOTrainer, which has no tools/);
    expect(() => script({ ...rloo, env_source: '() => ({})' })).toThrow(/RLOOTrainer, which has no tools/);
    // every loss type exports as GRPOTrainer with its own loss_type
    for (const l of LOSS_TYPES) expect(script({ ...defaultConfig(), loss_type: l })).toContain(`loss_type="${l}"`);
  });
});

describe.skipIf(!python)('the exported TRL script of an SFT run (SFTTrainer) and of GRPO with sft_coef', () => {
  const sft = (over: Partial<GrpoConfig>) => ({ ...defaultConfig(), algorithm: 'sft' as const, ...over });
  const scripts: Record<string, string> = {
    sft: script(sft({})),
    sft_renamed_tsv: script(sft({ eval_split: 0, gradient_accumulation_steps: 2 }), { name: 'qa.tsv', format: 'tsv', promptColumn: 'question', answerColumn: 'solution' }),
    grpo_sft_coef: script({ ...defaultConfig(), sft_coef: 0.05, sft_on: 'zero_reward_groups', sft_column: 'solution' }),
  };
  const results = analyse(scripts);
  const kw = (name: string, callee: string) => results[name].calls[callee]?.flat() ?? [];

  test('the SFT scripts compile, call SFTTrainer / SFTConfig once, and pass only keywords they accept', () => {
    for (const name of ['sft', 'sft_renamed_tsv']) {
      const r = results[name];
      expect(r.compiled, name).toBeNull();
      expect(r.calls.SFTTrainer?.length, name).toBe(1);
      expect(r.calls.SFTConfig?.length, name).toBe(1);
      expect(r.calls.GRPOConfig, name).toBeUndefined();
      for (const callee of ['SFTTrainer', 'SFTConfig', 'LoraConfig']) {
        for (const k of r.calls[callee].flat()) {
          expect(ALLOWED[callee], `${name}: ${callee}(${k}=...)`).toContain(k);
          expect(REMOVED, `${name}: ${callee}(${k}=...)`).not.toContain(k);
        }
      }
      expect(scripts[name]).not.toMatch(/\{\{\w+\}\}/);
    }
    expect(kw('sft', 'SFTConfig')).toEqual(expect.arrayContaining(['completion_only_loss', 'max_length', 'per_device_train_batch_size', 'loss_type']));
    expect(scripts.sft).toContain('from trl import SFTConfig, SFTTrainer');
    expect(scripts.sft).toContain(`per_device_train_batch_size=${defaultConfig().prompts_per_step},`);
    expect(scripts.sft).toContain('completion_only_loss=True,');
    expect(scripts.sft_renamed_tsv).toContain('dataset.rename_columns({"question": "prompt", "solution": "completion"})');
    expect(scripts.sft_renamed_tsv).toContain('gradient_accumulation_steps=2,');
  });

  test('GRPO with sft_coef > 0 says that TRL has no such term and what the script does instead', () => {
    expect(results.grpo_sft_coef.compiled).toBeNull();
    const s = scripts.grpo_sft_coef;
    expect(s).toMatch(/#   sft_coef = 0\.05: TRL's GRPOTrainer has no SFT term/);
    expect(s).toMatch(/sft_coef = 0\.05 \(sft_on \\?"zero_reward_groups\\?", sft_column \\?"solution\\?"\): the playground added sft_coef x the mean NLL of the reference answers of the prompts whose completions all got reward 0/);
    expect(kw('grpo_sft_coef', 'GRPOConfig')).not.toContain('sft_coef');
  });
});
