// The TRL exports of reward models (issue 28 item 4): algorithm reward_model writes a RewardTrainer script (a
// SEQ_CLS LoRA with the score head in modules_to_save, RewardConfig's center_rewards_coefficient), and a GRPO run
// with reward_model rewards passes the reward models to GRPOTrainer (one adapter: the merged model, scored with
// reward_processing_classes; an ensemble: a function reducing the members). Each script compiles and passes only
// keywords the named versions accept.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { trlScript } from '../../src/export/trl_script';
import { defaultConfig, type GrpoConfig } from '../../src/grpo/config';

// TRL v1.9.0, trl/trainer/reward_config.py: the fields RewardConfig declares (plus TrainingArguments' below)
const TRL_REWARD_CONFIG = [
  'model_init_kwargs', 'chat_template_path', 'disable_dropout', 'dataset_num_proc', 'eos_token', 'pad_token', 'max_length',
  'pad_to_multiple_of', 'center_rewards_coefficient', 'activation_offloading',
];
// transformers v5 TrainingArguments fields the preference exports pass (trl_preference.ts TRAINING_KEYS and the batch sizes)
const TRAINING_ARGUMENTS_USED = [
  'learning_rate', 'lr_scheduler_type', 'warmup_steps', 'max_steps', 'gradient_accumulation_steps', 'adam_beta1', 'adam_beta2', 'adam_epsilon',
  'weight_decay', 'max_grad_norm', 'seed', 'eval_strategy', 'eval_steps', 'eval_on_start', 'save_strategy', 'save_steps',
  'per_device_train_batch_size', 'per_device_eval_batch_size', 'logging_steps', 'output_dir',
];
// TRL v1.9.0 RewardTrainer.__init__ and GRPOTrainer.__init__ parameters
const REWARD_TRAINER_PARAMS = [
  'model', 'args', 'data_collator', 'train_dataset', 'eval_dataset', 'processing_class', 'compute_metrics', 'callbacks', 'optimizers',
  'optimizer_cls_and_kwargs', 'preprocess_logits_for_metrics', 'peft_config',
];
const GRPO_TRAINER_PARAMS = [
  'model', 'reward_funcs', 'args', 'train_dataset', 'eval_dataset', 'processing_class', 'reward_processing_classes', 'callbacks',
  'optimizers', 'quantization_config', 'peft_config', 'tools',
];
// PEFT v0.20.0 LoraConfig fields the exports pass
const LORA_USED = ['task_type', 'r', 'lora_alpha', 'lora_dropout', 'target_modules', 'use_rslora', 'bias', 'modules_to_save', 'init_lora_weights', 'use_dora'];

const python = spawnSync('python3', ['--version']).status === 0;

function calls(text: string): { compiled: string | null; calls: Record<string, string[][]> } {
  const dir = mkdtempSync(join(tmpdir(), 'trl-rm-'));
  const path = join(dir, 's.py');
  writeFileSync(path, text);
  const program = `
import ast, json, py_compile, sys
path = sys.argv[1]
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
print(json.dumps({"compiled": compiled, "calls": calls}))
`;
  const r = spawnSync('python3', ['-c', program, path], { encoding: 'utf8' });
  expect(r.stderr).toBe('');
  return JSON.parse(r.stdout);
}

const script = (config: GrpoConfig, dataset = { name: 'data.jsonl', format: 'jsonl', promptColumn: 'prompt', answerColumn: 'answer' } as Parameters<typeof trlScript>[0]['dataset']) =>
  trlScript({ config, modelName: 'HuggingFaceTB/SmolLM2-135M', dataset, stepsTrained: 10 });

describe.skipIf(!python)('reward-model TRL exports', () => {
  test('algorithm reward_model: RewardTrainer on AutoModelForSequenceClassification(num_labels=1), SEQ_CLS LoRA saving the score head', () => {
    const py = script({ ...defaultConfig(), algorithm: 'reward_model', center_rewards_coefficient: 0.01 }, { name: 'pairs.jsonl', format: 'jsonl', promptColumn: 'prompt', answerColumn: 'chosen', rejectedColumn: 'rejected' });
    const r = calls(py);
    expect(r.compiled).toBeNull();
    expect(py).toContain('from trl import RewardConfig, RewardTrainer');
    expect(py).toMatch(/model = AutoModelForSequenceClassification\.from_pretrained\(\s*MODEL, num_labels=1, dtype=/);
    for (const k of r.calls.RewardConfig.flat()) expect([...TRL_REWARD_CONFIG, ...TRAINING_ARGUMENTS_USED], `RewardConfig(${k}=...)`).toContain(k);
    for (const k of r.calls.RewardTrainer.flat()) expect(REWARD_TRAINER_PARAMS, `RewardTrainer(${k}=...)`).toContain(k);
    for (const k of r.calls.LoraConfig.flat()) expect(LORA_USED, `LoraConfig(${k}=...)`).toContain(k);
    expect(r.calls.RewardConfig.flat()).not.toContain('beta');
    expect(py).toContain('center_rewards_coefficient=0.01,');
    expect(py).toContain('task_type="SEQ_CLS",');
    expect(py).toContain('modules_to_save=["score"],');
    // 0 is TRL's None
    expect(script({ ...defaultConfig(), algorithm: 'reward_model' })).toContain('center_rewards_coefficient=None,');
  });

  test('GRPO with reward models: one adapter as a model with reward_processing_classes, an ensemble as a reducing function', () => {
    const c: GrpoConfig = {
      ...defaultConfig(),
      reward_funcs: [
        { name: 'numeric_match', weight: 1, params: {} },
        { name: 'reward_model', weight: 0.5, params: { adapters: 'rm-a' } },
        { name: 'reward_model', weight: 0.5, params: { adapters: 'rm-a, rm-b', reduce: 'mean_minus_std', std_coef: 0.5 } },
      ],
    };
    const py = script(c);
    const r = calls(py);
    expect(r.compiled).toBeNull();
    for (const k of r.calls.GRPOTrainer.flat()) expect(GRPO_TRAINER_PARAMS, `GRPOTrainer(${k}=...)`).toContain(k);
    expect(r.calls.GRPOTrainer.flat()).toContain('reward_processing_classes');
    expect(py).toContain('    load_reward_model("rm-a"),');
    expect(py).toContain('    make_reward_model_ensemble("reward_model_2", paths=["rm-a", "rm-b"], reduce="mean_minus_std", std_coef=0.5),');
    expect(py).toContain('reward_processing_classes=[None, tokenizer, None],');
    expect(py).toContain('reward_weights=[1, 0.5, 0.5],');
    expect(py).toContain('AutoModelForSequenceClassification.from_pretrained(');
    // without reward models the script has none of it
    const plain = script(defaultConfig());
    expect(plain).not.toContain('reward_processing_classes');
    expect(plain).not.toContain('load_reward_model');
  });
});
