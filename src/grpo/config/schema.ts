// The GRPO run's configuration as one table: one entry per field, with its value kind, default, range,
// settings group, documentation, source paper and TRL export decision (see fields.ts for what each part
// means). Everything else is derived from it: the GrpoConfig type, DEFAULT_CONFIG, CONFIG_DOCS, the
// type and range checks (validate.ts), JSON import (json.ts), the settings panel's inputs
// (src/ui/settings/fields.ts), the TRL export (trl.ts) and docs/CONFIG.md (docs.ts).
// Names are TRL's (GRPOConfig, PEFT LoraConfig) where TRL has the setting; defaults are sized for a small
// model in a browser tab.
// Longer than ~400 lines on purpose: it is the one table of every field's documentation.

import { BUILTIN_REWARD_NAMES } from '../rewards/registry';
import {
  ADVANTAGE_ESTIMATORS,
  ALGORITHMS,
  BASE_PRECISIONS,
  CURRICULA,
  STEP_ADVANTAGES,
  PROCESS_CREDITS,
  DPO_LOSS_TYPES,
  IMPORTANCE_SAMPLING_LEVELS,
  KV_PRECISIONS,
  LONG_PROMPTS,
  LORA_TARGET_MODULES,
  LOSS_TYPES,
  LR_SCHEDULER_TYPES,
  MULTI_OBJECTIVE_AGGREGATIONS,
  RECOMPUTE_MODES,
  SHARE_PREFIX_MODES,
  SCALE_REWARDS,
  SFT_ON,
} from './enums';
import {
  bool,
  CISPO,
  DAPO,
  DEEPSEEKMATH,
  DR_GRPO,
  GSPO,
  HF,
  int,
  intOrNull,
  listOf,
  LIMR,
  LORA,
  num,
  numOrNull,
  oneOf,
  PEFT,
  PLAYGROUND,
  rewardList,
  SAPO,
  LUSPO,
  VESPO,
  textOrNull,
  TRL,
  type FieldEntry,
} from './fields';

/** One reward function of the run: a built-in's name (see REWARD_FUNCS) or 'custom'. */
export interface RewardFuncConfig {
  name: string;
  weight: number;
  params: Record<string, unknown>;
}

export const SCHEMA = {
  // ---- generation
  num_generations: int({
    default: 8,
    group: 'Generation',
    doc:
      'Completions sampled per prompt (G, the group). Each completion\'s advantage is its reward compared with ' +
      'the others in its group, so at least 2 are needed; more gives a better baseline but costs generation time ' +
      'in proportion.',
    source: `${DEEPSEEKMATH}; ${TRL}`,
    range: { whole: 2 },
    trl: { trl: 'num_generations' },
  }),
  max_prompt_length: int({
    default: 256,
    group: 'Generation',
    doc: 'Longest prompt in tokens (after the chat template); longer prompts are cut from the left, keeping their end.',
    source: TRL,
    range: { whole: 1 },
    trl: { notInTrl: 'TRL removed max_prompt_length in v0.28; the script cuts or drops long prompts in its dataset map (see long_prompts)' },
  }),
  long_prompts: oneOf(LONG_PROMPTS)({
    default: 'truncate_left',
    group: 'Generation',
    doc:
      'What happens to a prompt longer than max_prompt_length tokens: "truncate_left" keeps its last tokens (as TRL ' +
      'does; the beginning of BOS stays), "skip" leaves the row out. Either way the rows are counted and reported.',
    source: TRL,
    trl: { notInTrl: 'done in the script\'s dataset map: long prompts are cut from the left or the rows are dropped' },
  }),
  max_completion_length: int({
    default: 64,
    group: 'Generation',
    doc:
      'Most tokens generated per completion. A completion that reaches it without an end-of-sequence token is ' +
      '"truncated" (see mask_truncated_completions). Also the constant divisor of the dr_grpo loss.',
    source: TRL,
    range: { whole: 1 },
    trl: { trl: 'max_completion_length' },
  }),
  temperature: num({
    default: 1.0,
    group: 'Generation',
    doc:
      'Sampling temperature: higher gives more varied completions (and so more to learn from), lower gives more ' +
      'likely ones. Log-probabilities in the loss are computed at the same temperature.',
    source: TRL,
    range: { above: 0, advice: 'for nearly greedy sampling use a small value such as 0.1' },
    trl: { trl: 'temperature' },
  }),
  top_p: num({
    default: 1.0,
    group: 'Generation',
    doc: 'Nucleus sampling: sample only from the most likely tokens whose probabilities add up to top_p. 1.0 turns it off.',
    source: TRL,
    range: { lo: 0, hi: 1, loOpen: true, hiOpen: false, advice: 'use 1.0 to turn nucleus sampling off' },
    trl: { trl: 'top_p' },
  }),
  top_k: int({
    default: 0,
    group: 'Generation',
    doc: 'Sample only from the k most likely tokens. 0 turns it off.',
    source: TRL,
    range: { whole: 0, why: ' (0 turns top-k off)' },
    trl: { trl: 'top_k' },
  }),
  // ---- tools and environments (issue 16)
  tools_source: textOrNull({
    default: null,
    group: 'Generation',
    doc:
      'JavaScript tools the model may call while it generates: an array of {name, description, parameters (a JSON ' +
      'schema of the arguments), run(args) => JSON value}, run in the reward sandbox (no network, no DOM, ' +
      'tool_timeout_ms per call). When a completion writes a call in tool_call_format, that row pauses, the tool ' +
      'runs, its result is inserted into that row\'s context (out of the loss), and generation continues. null: no tools.',
    source: TRL,
    trl: { notInTrl: 'GRPOTrainer(tools=...) takes Python functions: export-trl writes them (translated when the body is plain arithmetic, else stubs that raise)' },
  }),
  env_source: textOrNull({
    default: null,
    group: 'Generation',
    doc:
      'JavaScript environment for multi-turn episodes: a function (or class) making one environment per rollout, ' +
      'with reset(row) returning the first observation and step(text) returning {observation, reward?, done}. ' +
      'Each model turn is stepped; observations are inserted (out of the loss) until done or max_turns. null: none.',
    source: 'TRL GRPOTrainer environment_factory',
    trl: { notInTrl: 'GRPOTrainer(environment_factory=...) takes a Python class; not exported' },
  }),
  tool_call_format: oneOf(['auto', 'qwen', 'llama3', 'pattern'] as const)({
    default: 'auto',
    group: 'Generation',
    doc:
      'How the model writes tool calls and reads results: "qwen" (<tool_call>{"name", "arguments"}</tool_call>, ' +
      'results as tool messages), "llama3" (a JSON call as the whole turn, results as ipython messages), "pattern" ' +
      '(tool_call_open + JSON {"name", "arguments"} or name({...}) + tool_call_close; with a single tool any other body ' +
      'is its {"input": body}; results by tool_result_template: ' +
      'for models without a chat template), or "auto" (from the model\'s chat template; pattern without one).',
    trl: { notInTrl: 'TRL reads the format from the chat template' },
  }),
  tool_call_open: textOrNull({
    default: '<tool>',
    group: 'Generation',
    doc: 'The pattern format\'s opening marker of a tool call.',
    trl: { notInTrl: 'pattern format only' },
  }),
  tool_call_close: textOrNull({
    default: '</tool>',
    group: 'Generation',
    doc: 'The pattern format\'s closing marker: the row pauses when the model\'s turn ends with it.',
    trl: { notInTrl: 'pattern format only' },
  }),
  tool_result_template: textOrNull({
    default: '<result>{result}</result>',
    group: 'Generation',
    doc: 'The pattern format\'s inserted text after a call, with {result} where the result (or "Error: ...") goes.',
    trl: { notInTrl: 'pattern format only' },
  }),
  env_observation_template: textOrNull({
    default: '\n{observation}\n',
    group: 'Generation',
    doc: 'For models without a chat template: the text inserted for an environment observation, with {observation}.',
    trl: { notInTrl: 'with a chat template the observation is a user message' },
  }),
  turn_end_marker: textOrNull({
    default: null,
    group: 'Generation',
    doc:
      'For environment episodes with models without a chat template: text that ends a model turn (e.g. "\\n"), ' +
      'besides the end-of-sequence token; the turn is then stepped. null: only end-of-sequence ends a turn.',
    trl: { notInTrl: 'TRL ends turns at the chat template\'s end of turn' },
  }),
  max_tool_calling_iterations: intOrNull({
    default: null,
    group: 'Generation',
    doc: 'Most tool calls per completion; after that the episode ends at its next call. null: limited only by max_completion_length.',
    source: TRL,
    range: { whole: 0, why: ' (null: no limit)' },
    suggest: 4,
    trl: { trl: 'max_tool_calling_iterations' },
  }),
  tool_timeout_ms: int({
    default: 2000,
    group: 'Generation',
    doc: 'Time one tool call or environment step may take; past it the call is an error in that row\'s context and the sandbox worker is restarted.',
    range: { whole: 1 },
    trl: { notInTrl: 'Python tools run in-process in TRL' },
  }),
  max_turns: int({
    default: 4,
    group: 'Generation',
    doc: 'Model turns per environment episode; an episode that has not said done by then ends (counted as not done).',
    source: TRL,
    range: { whole: 1 },
    trl: { notInTrl: 'environment episodes are not exported' },
  }),
  env_reward_weight: num({
    default: 1.0,
    group: 'Rewards',
    doc:
      'Weight of the environment\'s episode reward (the sum of its step rewards) in the total reward, added to the ' +
      'weighted reward functions (which score the whole conversation). 0 uses only the reward functions.',
    range: { finite: 'any weight; 0 leaves the environment reward out' },
    trl: { notInTrl: 'environments are not exported' },
  }),
  // ---- optimizer
  learning_rate: num({
    default: 5e-4,
    group: 'Optimizer',
    doc:
      'AdamW step size for the LoRA weights. LoRA adapters on small models train well around 1e-4 to 1e-3; full ' +
      'fine-tuning of large models uses far less (TRL\'s default 1e-6).',
    source: HF,
    range: { lo: 0, hi: 1, loOpen: true, hiOpen: false, advice: 'LoRA usually trains well with 1e-4 to 1e-3' },
    trl: { trl: 'learning_rate' },
  }),
  lr_scheduler_type: oneOf(LR_SCHEDULER_TYPES)({
    default: 'constant',
    group: 'Optimizer',
    doc: 'How the learning rate changes after warmup: "constant", "linear" decay to 0 at max_steps, or "cosine" decay to 0.',
    source: HF,
    trl: { computed: ['lr_scheduler_type'], note: 'Hugging Face\'s "constant" ignores warmup: with warmup it is "constant_with_warmup"' },
  }),
  warmup_ratio: num({
    default: 0.0,
    group: 'Optimizer',
    doc: 'Fraction of max_steps over which the learning rate rises linearly from 0 to learning_rate.',
    source: HF,
    range: { lo: 0, hi: 1, loOpen: false, hiOpen: false, advice: 'it is the fraction of max_steps spent warming up; 0 means no warmup' },
    trl: { computed: ['warmup_steps'], note: 'transformers v5 deprecates warmup_ratio: exported as warmup_steps = ceil(warmup_ratio × max_steps), the steps this playground warms up for' },
  }),
  weight_decay: num({
    default: 0.0,
    group: 'Optimizer',
    doc: 'AdamW decoupled weight decay on the LoRA weights; 0 turns it off.',
    source: HF,
    range: { atLeast: 0, advice: '0 turns it off' },
    trl: { trl: 'weight_decay' },
  }),
  adam_beta1: num({
    default: 0.9,
    group: 'Optimizer',
    doc: 'AdamW decay rate of the gradient\'s running mean.',
    source: HF,
    range: { lo: 0, hi: 1, loOpen: false, hiOpen: true, advice: 'the usual value is 0.9' },
    trl: { trl: 'adam_beta1' },
  }),
  adam_beta2: num({
    default: 0.999,
    group: 'Optimizer',
    doc: 'AdamW decay rate of the squared gradient\'s running mean.',
    source: HF,
    range: { lo: 0, hi: 1, loOpen: false, hiOpen: true, advice: 'the usual value is 0.999' },
    trl: { trl: 'adam_beta2' },
  }),
  adam_epsilon: num({
    default: 1e-8,
    group: 'Optimizer',
    doc: 'AdamW\'s small constant added to the denominator for numerical safety.',
    source: HF,
    range: { above: 0, advice: 'the usual value is 1e-8' },
    trl: { trl: 'adam_epsilon' },
  }),
  max_grad_norm: num({
    default: 1.0,
    group: 'Optimizer',
    doc: 'Gradients are scaled down when their global L2 norm exceeds this; 0 turns clipping off.',
    source: HF,
    range: { atLeast: 0, advice: '0 turns gradient clipping off, 1.0 is usual' },
    trl: { trl: 'max_grad_norm' },
  }),
  // ---- batch
  prompts_per_step: int({
    default: 2,
    group: 'Batch',
    doc:
      'Prompts per micro-step; each brings its group of num_generations completions. TRL expresses this as ' +
      'per_device_train_batch_size = prompts_per_step × num_generations completions.',
    source: TRL,
    range: { whole: 1 },
    trl: { computed: ['per_device_train_batch_size'], note: 'TRL counts completions: per_device_train_batch_size = prompts_per_step × num_generations' },
  }),
  gradient_accumulation_steps: int({
    default: 1,
    group: 'Batch',
    doc:
      'Micro-steps whose gradients are added up before one optimizer step, so an optimizer step sees ' +
      'prompts_per_step × gradient_accumulation_steps prompts without holding them in memory at once.',
    source: HF,
    range: { whole: 1 },
    trl: { trl: 'gradient_accumulation_steps' },
  }),
  num_iterations: int({
    default: 1,
    group: 'Batch',
    doc:
      'Passes over each batch of generations (μ), each its own optimizer step, as in TRL: one rollout feeds ' +
      'steps_per_generation × num_iterations optimizer steps (its slices in order, then the cycle again), and max_steps, ' +
      'the schedule, warm-up, evaluation and checkpoints count optimizer steps. With 1 (and steps_per_generation 1) the ' +
      'policy ratio is exactly 1 and clipping never acts; above 1 the same completions are reused with the old ' +
      'log-probabilities of the generating policy, and clipping keeps the updates close.',
    source: `${DEEPSEEKMATH}; ${TRL}`,
    range: { whole: 1, why: ' (1 means one optimizer pass per batch of generations)' },
    trl: { trl: 'num_iterations' },
  }),
  steps_per_generation: int({
    default: 1,
    group: 'Batch',
    doc:
      'Optimizer steps trained from one rollout: each generation samples prompts_per_step × gradient_accumulation_steps × ' +
      'steps_per_generation prompts at once and splits them over that many optimizer steps, each of ' +
      'prompts_per_step × gradient_accumulation_steps prompts as usual. After the first, the steps are off-policy: ' +
      'the old log-probabilities of the rollout and clipping keep them close. 1 generates for every step. TRL counts ' +
      'micro-batches instead: its steps_per_generation is this × gradient_accumulation_steps. max_steps counts ' +
      'optimizer steps. A run resumed from a checkpoint between two generations starts a new generation (the ' +
      'rollout\'s remaining steps are not saved). Unlike TRL, the rollout is not shuffled before it is cut: each step ' +
      'and micro-batch trains on whole groups, so the rollouts panel and the token traces show whole groups and ' +
      'dynamic_sampling drops groups; TRL shuffles completions, which only changes which tokens share a micro-batch ' +
      '(bnpo\'s denominator, the entropy quantile\'s token set).',
    source: `${GSPO} (4); ${TRL}`,
    range: { whole: 1, why: ' (1 generates a new rollout for every optimizer step)' },
    trl: { computed: ['steps_per_generation'], note: 'TRL counts micro-batches: steps_per_generation × gradient_accumulation_steps' },
  }),
  // ---- GRPO loss
  beta: num({
    default: 0.0,
    group: 'GRPO loss',
    doc:
      'Weight of the KL penalty that keeps the policy close to the starting model. 0 (TRL\'s default) skips the ' +
      'reference model\'s forward pass entirely; DeepSeekMath used 0.04.',
    source: `${DEEPSEEKMATH}; ${TRL}`,
    range: { atLeast: 0, advice: '0 turns the KL penalty off, DeepSeekMath used 0.04' },
    trl: { trl: 'beta', differs: 'as TRL\'s GRPOConfig; with advantage_estimator "rloo" it is, as in TRL\'s RLOOConfig, a penalty of beta times the summed first-order KL on each reward instead of a loss term' },
  }),
  epsilon: num({
    default: 0.2,
    group: 'GRPO loss',
    doc: 'Clip range below 1 of the policy ratio: ratios under 1 - epsilon get no further push (PPO-style clipping).',
    source: `${DEEPSEEKMATH}; ${TRL}`,
    range: { lo: 0, hi: 1, loOpen: true, hiOpen: true, advice: 'the usual value is 0.2' },
    trl: { trl: 'epsilon' },
  }),
  epsilon_high: num({
    default: 0.2,
    group: 'GRPO loss',
    doc:
      'Clip range above 1 of the policy ratio (1 + epsilon_high). Equal to epsilon is symmetric clipping; DAPO\'s ' +
      '"clip-higher" uses 0.28 so that unlikely but good tokens can grow, keeping exploration alive. TRL\'s ' +
      'default (None) means "same as epsilon". With loss_type "cispo" it is the cap of the clipped weight (ε_max).',
    source: `${DAPO}; ${TRL}`,
    range: { above: 0, advice: 'set it equal to epsilon for symmetric clipping' },
    trl: { trl: 'epsilon_high' },
  }),
  delta: numOrNull({
    default: null,
    group: 'GRPO loss',
    doc:
      'Two-sided clipping: when set, the unclipped policy ratio is first clamped to at most delta, so a token with a ' +
      'negative advantage cannot be pushed without bound. null turns it off; TRL recommends a value above 1 + epsilon_high.',
    source: `INTELLECT-2 (Prime Intellect 2025, arXiv 2505.07291); ${TRL}`,
    range: { above: 1, advice: 'it must exceed 1 + epsilon_high to clamp only what clipping does not (INTELLECT-2 used 4); null turns it off' },
    suggest: 4,
    trl: { trl: 'delta' },
  }),
  off_policy_mask_threshold: numOrNull({
    default: null,
    group: 'GRPO loss',
    doc:
      'Off-policy sequence masking: a completion with a negative advantage whose mean log-ratio old_logp − logp over its ' +
      'tokens (a KL estimate of how far the policy moved) exceeds this loses its policy loss (not its KL term). Acts ' +
      'off-policy only (steps_per_generation or num_iterations above 1). null turns it off. As TRL (the old log-probs ' +
      'are those of the generating policy; TRL with vLLM would use the sampler\'s).',
    source: `DeepSeek-V3.2 (DeepSeek-AI 2025, arXiv 2512.02556), eq. 9; ${TRL}`,
    range: { above: 0, advice: 'TRL expects a positive value, e.g. 0.5; null turns it off' },
    suggest: 0.5,
    trl: { trl: 'off_policy_mask_threshold', differs: 'the old log-probs are the generating policy\'s (TRL with vLLM would use the sampler\'s)' },
  }),
  use_bias_correction_kl: bool({
    default: false,
    group: 'GRPO loss',
    doc:
      'Multiply the k3 KL estimate by the importance ratio (token or sequence level, with its gradient), which makes it ' +
      'unbiased off-policy. Only acts with beta > 0. As TRL.',
    source: `DeepSeek-V3.2 (DeepSeek-AI 2025, arXiv 2512.02556); ${TRL}`,
    trl: { trl: 'use_bias_correction_kl' },
  }),
  loss_type: oneOf(LOSS_TYPES)({
    default: 'dapo',
    group: 'GRPO loss',
    doc:
      'How per-token losses are averaged. "grpo": mean over each completion\'s tokens, then over completions ' +
      '(short completions weigh more per token, a length bias). "bnpo": sum over the micro-batch divided by its ' +
      'active tokens. "dr_grpo": sum divided by completions × max_completion_length, a constant, removing the ' +
      'length bias. "dapo" (TRL\'s default): sum divided by the active tokens of the whole accumulated batch. ' +
      '"cispo": the clipped weight min(ρ, epsilon_high), without gradient, times the advantage times the ' +
      'log-probability, aggregated as dapo. "sapo": a soft gate σ(τ(ρ−1))·4/τ instead of clipping (τ from ' +
      'sapo_temperature_pos / _neg), aggregated as grpo. "luspo": the clipped GSPO loss of each completion times ' +
      'its token count, then the mean over completions (needs importance_sampling_level "sequence", as TRL). ' +
      '"vespo": −φ(w)·A·log-probability with φ(w) = e^{λ + k log w − λw} (no gradient), w the completion\'s summed ' +
      'ratio, (k, λ) from vespo_k_pos / vespo_lambda_pos for A ≥ 0 and the _neg pair otherwise, aggregated as dapo. ' +
      'All as TRL\'s _compute_loss (TRL 1.10).',
    source: `${DEEPSEEKMATH}; ${DR_GRPO}; ${DAPO}; ${CISPO}; ${SAPO}; ${LUSPO}; ${VESPO}; ${TRL}`,
    trl: { trl: 'loss_type', differs: 'each micro-batch holds whole groups (TRL shuffles the generation batch\'s completions before cutting it), so bnpo\'s per-micro-batch denominator is taken over other tokens than TRL\'s; the expected loss is the same. luspo needs beta 0 here (TRL\'s luspo with beta > 0 averages over the padded grid)' },
  }),
  importance_sampling_level: oneOf(IMPORTANCE_SAMPLING_LEVELS)({
    default: 'token',
    group: 'GRPO loss',
    doc:
      'Where the policy ratio is taken: "token" gives each token its own ratio exp(logp − old_logp); "sequence" ' +
      '(GSPO) gives every token of a completion one ratio, the exp of the mean of its own tokens\' log-ratios (a tool\'s ' +
      'inserted tokens left out, as TRL). It matters off-policy (num_iterations or steps_per_generation above 1), and ' +
      'with top_entropy_quantile < 1, where the shared ratio passes the kept tokens\' gradient to the masked ones.',
    source: `${GSPO}; ${TRL}`,
    trl: { trl: 'importance_sampling_level' },
  }),
  sapo_temperature_pos: num({
    default: 1.0,
    group: 'GRPO loss',
    doc: 'SAPO\'s gate temperature τ for tokens with a positive advantage (loss_type "sapo" only); higher gates more sharply.',
    source: `${SAPO}; ${TRL}`,
    range: { above: 0, advice: 'SAPO uses 1.0' },
    trl: { trl: 'sapo_temperature_pos' },
  }),
  sapo_temperature_neg: num({
    default: 1.05,
    group: 'GRPO loss',
    doc: 'SAPO\'s gate temperature τ for tokens with a zero or negative advantage (loss_type "sapo" only).',
    source: `${SAPO}; ${TRL}`,
    range: { above: 0, advice: 'SAPO uses 1.05' },
    trl: { trl: 'sapo_temperature_neg' },
  }),
  vespo_k_pos: num({
    default: 2.0,
    group: 'GRPO loss',
    doc: 'VESPO\'s power k for completions with advantage ≥ 0 (loss_type "vespo" only): how strongly a ratio below 1 is down-weighted. As TRL.',
    source: `${VESPO}; ${TRL}`,
    range: { atLeast: 0, advice: 'TRL\'s default is 2.0' },
    trl: { trl: 'vespo_k_pos' },
  }),
  vespo_lambda_pos: num({
    default: 3.0,
    group: 'GRPO loss',
    doc: 'VESPO\'s decay λ for completions with advantage ≥ 0 (loss_type "vespo" only): how strongly a ratio above 1 is down-weighted. As TRL.',
    source: `${VESPO}; ${TRL}`,
    range: { atLeast: 0, advice: 'TRL\'s default is 3.0' },
    trl: { trl: 'vespo_lambda_pos' },
  }),
  vespo_k_neg: num({
    default: 3.0,
    group: 'GRPO loss',
    doc: 'VESPO\'s power k for completions with a negative advantage (loss_type "vespo" only). As TRL.',
    source: `${VESPO}; ${TRL}`,
    range: { atLeast: 0, advice: 'TRL\'s default is 3.0' },
    trl: { trl: 'vespo_k_neg' },
  }),
  vespo_lambda_neg: num({
    default: 2.0,
    group: 'GRPO loss',
    doc: 'VESPO\'s decay λ for completions with a negative advantage (loss_type "vespo" only). As TRL.',
    source: `${VESPO}; ${TRL}`,
    range: { atLeast: 0, advice: 'TRL\'s default is 2.0' },
    trl: { trl: 'vespo_lambda_neg' },
  }),
  top_entropy_quantile: num({
    default: 1.0,
    group: 'GRPO loss',
    doc:
      'Only the highest-entropy tokens get a policy loss: those whose entropy is at or above the (1 − q) quantile of ' +
      'the batch\'s completion tokens. 1.0 keeps every token; the "80/20" paper trains on the top 0.2.',
    source: `"Beyond the 80/20 Rule" (Wang et al. 2025, arXiv 2506.01939); ${TRL}`,
    range: { lo: 0, hi: 1, loOpen: false, hiOpen: false, advice: '1.0 keeps every token, the 80/20 paper used 0.2, 0 keeps only the highest (as TRL)' },
    trl: { trl: 'top_entropy_quantile', differs: 'the threshold is taken over each micro-batch of whole groups, TRL\'s over a shuffled mix of completions (see loss_type)' },
  }),
  entropy_coef: num({
    default: 0.0,
    group: 'GRPO loss',
    doc: 'Weight of an entropy bonus subtracted from the loss, to keep the policy from collapsing onto one answer; 0 turns it off.',
    source: TRL,
    range: { atLeast: 0, advice: '0 turns the entropy bonus off; small values such as 0.001 are usual' },
    trl: { trl: 'entropy_coef', differs: 'a fixed coefficient only: TRL\'s adaptive entropy control (entropy_target, entropy_coef_delta, min/max) is not implemented' },
  }),
  scale_rewards: oneOf(SCALE_REWARDS)({
    default: 'group',
    group: 'GRPO loss',
    doc:
      'How advantages are scaled after subtracting the group\'s mean reward. "group": divide by the group\'s ' +
      'standard deviation (GRPO). "batch": by the whole batch\'s. "none": do not divide, as Dr. GRPO recommends, ' +
      'because dividing by the group\'s spread over-weights prompts that are nearly always right or wrong.',
    source: `${DEEPSEEKMATH}; ${DR_GRPO}; ${TRL}`,
    trl: { trl: 'scale_rewards' },
  }),
  mask_truncated_completions: bool({
    default: false,
    group: 'GRPO loss',
    doc:
      'Leave completions that hit max_completion_length out of the loss, so an answer cut off mid-way is not ' +
      'punished as if it were wrong ("overlong filtering").',
    source: `${DAPO}; ${TRL}`,
    trl: { trl: 'mask_truncated_completions' },
  }),
  dynamic_sampling: bool({
    default: false,
    group: 'GRPO loss',
    doc:
      'Drop groups whose completions all got the same reward: their advantages are all 0, so they only dilute ' +
      'the batch. With max_resample_rounds > 0 the batch is refilled with new prompts as DAPO does; with 0 the step ' +
      'trains on the groups that remain.',
    source: `${DAPO} (not in TRL)`,
    trl: { notInTrl: 'GRPOTrainer has no dynamic sampling (TRL issue #3708); the script trains on every group' },
  }),
  max_resample_rounds: int({
    default: 0,
    group: 'GRPO loss',
    doc:
      'With dynamic_sampling: sample more prompts, at most this many extra rounds per generation, until every slot of ' +
      'the batch holds a group whose rewards vary (DAPO\'s refill). The rounds used, the groups generated and the share ' +
      'of groups without spread before and after the refill are logged under dynamic_sampling/. 0 drops without refilling.',
    source: `${DAPO}, §3.2 (verl recipe: max_num_gen_batches)`,
    range: { whole: 0, why: ' (0 drops without refilling)' },
    trl: { notInTrl: 'TRL has no dynamic sampling; the script trains on every group' },
  }),
  skip_solved_epochs: int({
    default: 0,
    group: 'Data selection',
    doc:
      'Leave out, for this many epochs, a prompt whose last group was all right or all wrong (pass rate 1 or 0 at the ' +
      'first reward): its group would carry no signal. Counted in data/skipped_prompts. 0 keeps every prompt.',
    source: 'online pass-rate filtering, e.g. Skywork-OR1 (He et al. 2025, arXiv 2505.22312)',
    range: { whole: 0, why: ' (0 keeps every prompt)' },
    trl: { notInTrl: 'the script draws every prompt' },
  }),
  replay_buffer_size: int({
    default: 0,
    group: 'GRPO loss',
    doc:
      'Keep this many high-variance groups (score: the sum of |advantage| times the group\'s reward std) and train on ' +
      'one of them, drawn by score, in place of each group whose rewards are all equal, as TRL\'s experimental ' +
      'GRPOWithReplayBufferTrainer does. Logged as replay/groups_replaced and replay/buffer_size; frac_reward_zero_std ' +
      'counts the batch as trained, after the swaps (TRL logs it before). 0 turns it off.',
    source: 'TRL experimental GRPOWithReplayBufferConfig (replay_buffer_size)',
    range: { whole: 0, why: ' (0 turns the buffer off)' },
    trl: { notInTrl: 'TRL has it only in trl.experimental.grpo_with_replay_buffer (GRPOWithReplayBufferTrainer); the script uses GRPOTrainer' },
  }),
  step_advantage: oneOf(STEP_ADVANTAGES)({
    default: 'episode',
    group: 'GRPO loss',
    doc:
      'How a multi-turn episode (tools or an environment) is credited: "episode" gives every token the episode\'s ' +
      'advantage; "per_turn_discounted" gives each model turn its own, from its discounted return (the environment\'s ' +
      'step rewards after it, and the reward functions at the end, discounted by step_gamma) against the group\'s ' +
      'mean return at the same turn index. The token inspector shows each token\'s advantage.',
    source: 'MT-GRPO: "Reinforcing Multi-Turn Reasoning in LLM Agents via Turn-Level Credit Assignment" (Zeng et al. 2025, arXiv 2505.11821)',
    trl: { notInTrl: 'TRL gives every completion token one advantage; the script uses the episode\'s' },
  }),
  step_gamma: num({
    default: 1,
    group: 'GRPO loss',
    doc: 'Discount per turn of step_advantage "per_turn_discounted" (1: a turn is credited with every reward after it).',
    range: { lo: 0, hi: 1, loOpen: false, hiOpen: false, advice: 'a discount lies in [0, 1]' },
    trl: { notInTrl: 'no per-turn credit in TRL' },
  }),
  step_separator: textOrNull({
    default: null,
    group: 'Rewards',
    doc:
      'Process rewards: the text that ends a step of a completion (e.g. "\\n"). A custom reward may then return a list ' +
      'with one score per step (the completion cut after each separator, a trailing empty piece dropped); the ' +
      'column\'s reward is the list\'s minimum, and process_credit says how the steps are credited. null: every reward ' +
      'function returns one number.',
    source: 'DeepSeekMath (Shao et al. 2024), §4.1.3 process supervision; Math-Shepherd (Wang et al. 2024, arXiv 2312.08935)',
    trl: { notInTrl: 'TRL reward functions return one number per completion; the script\'s stub for the custom reward returns one' },
  }),
  process_credit: oneOf(PROCESS_CREDITS)({
    default: 'min',
    group: 'Rewards',
    doc:
      'With step_separator: "min" scores a completion by its weakest step (one advantage for every token, as outcome ' +
      'rewards); "per_step" normalises every step score against all steps of the group, (r - mean) / (std + 1e-4), and gives ' +
      'each token the sum of the normalised scores of its step and every later step (DeepSeekMath\'s process supervision). ' +
      '"per_step" needs one reward function, the custom one that returns the steps.',
    source: 'DeepSeekMath (Shao et al. 2024), §4.1.3; min-over-steps aggregation as in PRM-guided RL (e.g. Math-Shepherd)',
    trl: { notInTrl: 'no per-step credit in TRL' },
  }),
  // ---- algorithm
  algorithm: oneOf(ALGORITHMS)({
    default: 'grpo',
    group: 'Algorithm',
    doc:
      '"grpo": policy-gradient training with the loss above. "expert_iteration" (rejection-sampling fine-tuning): ' +
      'sample num_generations completions per prompt, keep those whose reward reaches expert_reward_threshold, and ' +
      'train on them with the supervised cross-entropy; the GRPO loss settings do not apply. The preference ' +
      'algorithms train on a preference dataset instead of rollouts (prompt/chosen/rejected; KTO: prompt/completion/label), ' +
      'with beta as their temperature: "dpo" (DPOTrainer; dpo_loss_type, label_smoothing, sft_loss_weight; the reference is ' +
      'the model with the adapter off, its log-probs computed once per pair), "simpo" (CPOTrainer with loss_type "simpo": ' +
      'reference-free, length-averaged, simpo_gamma, cpo_alpha), "orpo" (ORPOTrainer: NLL plus beta x the odds-ratio term), ' +
      '"kto" (KTOTrainer: desirable_weight, undesirable_weight, the batch KL baseline). "online_dpo" (OnlineDPOTrainer): ' +
      'rollouts and rewards as in GRPO; the best and the worst completion of each group form a pair (groups whose best ' +
      'and worst tie are skipped), trained with the DPO loss (dpo_loss_type sigmoid or ipo, beta, missing_eos_penalty) ' +
      '"reward_model" (RewardTrainer): LoRA plus a scalar head (Linear(hidden, 1), transformers\' score layer) on the ' +
      'last token\'s final hidden state, trained on the preference pairs with the Bradley-Terry loss ' +
      '-logsigmoid(r_chosen - r_rejected - margin) (a numeric "margin" column if the dataset has one) plus ' +
      'center_rewards_coefficient x mean((r_chosen + r_rejected)^2); it exports a PEFT SEQ_CLS adapter that a GRPO run\'s ' +
      '"reward_model" reward entry scores completions with. ' +
      '"sft" (SFTTrainer): supervised fine-tuning of the LoRA on prompt/answer rows (cross-entropy on the answer and the stop ' +
      'token, prompt tokens ignored, as TRL\'s completion_only_loss); prompts_per_step rows per step, no rollouts; logged as ' +
      'TRL\'s loss, mean_token_accuracy, entropy and num_tokens. Its adapter can start a GRPO or DPO run.',
    source: '"Echo Chamber: RL Post-training Amplifies Behaviors Learned in Pretraining" (Zhao et al. 2025, arXiv 2504.07912), which compares PPO-style GRPO with Expert Iteration; not in TRL; DPO (Rafailov et al. 2023), SimPO (Meng et al. 2024), ORPO (Hong et al. 2024), KTO (Ethayarajh et al. 2024) as TRL v1.9 implements them',
    trl: { notInTrl: 'TRL has no expert iteration: the script refuses to run GRPO in its place; the preference algorithms export their own TRL scripts (DPOTrainer, CPOTrainer, ORPOTrainer, KTOTrainer, RewardTrainer), "sft" an SFTTrainer script' },
  }),
  sft_coef: num({
    default: 0,
    group: 'Algorithm',
    doc:
      'GRPO (algorithm "grpo"): adds sft_coef × the supervised cross-entropy (mean NLL over the tokens) of ' +
      'the reference answers (the sft_column of each prompt\'s row, then the stop token) to the step\'s loss, on the ' +
      'prompts sft_on picks; 0 leaves it out. Logged as sft/loss (the NLL before the coefficient) and sft/groups ' +
      '(prompts that got the term). The gradient is the RL gradient plus sft_coef × the SFT gradient, in one optimizer step. ' +
      'The term covers the prompts of the step\'s groups, also groups dynamic_sampling drops (unless it drops all of them).',
    source:
      'sft_on "all": a fixed-weight single-stage mix of SFT and RL as in SRFT ("SRFT: A Single-Stage Method with Supervised and ' +
      'Reinforcement Fine-Tuning for Reasoning", Fu et al. 2025, arXiv 2506.19767; SRFT weights its terms by entropy, here the ' +
      'weight is fixed); "zero_reward_groups": SFT on the questions RL cannot solve, as ReLIFT ("Learning What Reinforcement ' +
      'Learning Can\'t: Interleaved Online Fine-Tuning for Hardest Questions", Ma et al. 2025, arXiv 2506.07527; ReLIFT buffers ' +
      'those questions and interleaves separate fine-tuning steps, here the term joins the same step)',
    range: { atLeast: 0, advice: 'small values (0.01 to 0.1) keep the RL signal in charge' },
    trl: { notInTrl: 'TRL\'s GRPOTrainer has no SFT term: its loss is the policy loss (and KL) only, so the script trains without the reference-answer cross-entropy that the playground added (an SFTTrainer run before, or a custom compute_loss, would be needed)' },
  }),
  sft_column: textOrNull({
    default: null,
    group: 'Algorithm',
    doc: 'The dataset column holding the reference answers for sft_coef (e.g. "answer", "solution"); null: the dataset\'s answer column. An answer longer than max_completion_length tokens keeps its start.',
    source: PLAYGROUND,
    trl: { notInTrl: 'used by sft_coef only, which TRL does not have' },
  }),
  sft_on: oneOf(SFT_ON)({
    default: 'all',
    group: 'Algorithm',
    doc:
      'Which prompts of a step get the sft_coef term: "all" (every prompt of the step) or "zero_reward_groups" (only prompts ' +
      'whose completions all got reward 0: the questions RL has no signal on yet).',
    source: 'SRFT (arXiv 2506.19767) for "all"; ReLIFT (arXiv 2506.07527) for "zero_reward_groups"',
    trl: { notInTrl: 'used by sft_coef only, which TRL does not have' },
  }),
  advantage_estimator: oneOf(ADVANTAGE_ESTIMATORS)({
    default: 'grpo',
    group: 'Algorithm',
    doc:
      'How a completion\'s advantage is computed from the rewards (not a TRL name). "grpo": minus the group\'s mean, ' +
      'scaled as scale_rewards says. "rloo": TRL\'s RLOOTrainer: minus the mean of the other G − 1 completions of its ' +
      'group (leave-one-out, not scaled), with RLOO\'s own loss (the ratio exp(Σ logp − Σ old_logp) of each completion, ' +
      'clipped at 1 ± epsilon, mean over completions; loss_type and importance_sampling_level are not used; beta is a ' +
      'KL penalty on the reward, β · Σ(old_logp − ref_logp) over the completion\'s tokens, as TRL\'s RLOO). "reinforce_pp": REINFORCE++-baseline as OpenRLHF publishes it (advantage_estimator ' +
      '"reinforce_baseline"): minus the group\'s mean, then whitened over every completion token of the batch (token-weighted ' +
      'mean and biased variance, divided by sqrt(max(var, 1e-8))). "reinforce_pp_verl": the same as verl\'s ' +
      '"reinforce_plus_plus_baseline" (masked_whiten: unbiased variance, divided by sqrt(var + 1e-8)).',
    source: 'RLOO (Ahmadian et al. 2024, arXiv 2402.14740); REINFORCE++ (Hu 2025, arXiv 2501.03262); as verl and OpenRLHF define them',
    trl: { notInTrl: 'GRPOTrainer has only group advantages: "rloo" runs TRL\'s RLOOTrainer instead, "reinforce_pp" and "reinforce_pp_verl" have no TRL counterpart' },
  }),
  expert_reward_threshold: num({
    default: 1.0,
    group: 'Algorithm',
    doc: 'Expert iteration keeps a completion for training when its reward is at least this (algorithm "expert_iteration" only).',
    source: PLAYGROUND,
    range: { finite: 'with rewards from 0 to 1, 1.0 keeps only fully correct completions' },
    trl: { notInTrl: 'used by expert iteration only, which TRL does not have' },
  }),
  dpo_loss_type: oneOf(DPO_LOSS_TYPES)({
    default: 'sigmoid',
    group: 'Algorithm',
    doc:
      'The DPO loss (algorithm "dpo"), on h = (logp_c - ref_c) - (logp_r - ref_r) over completion tokens: "sigmoid" ' +
      '-logsigmoid(beta h); "hinge" relu(1 - beta h); "ipo" (h\' - 1/(2 beta))^2 on length-averaged log-ratios; "robust" ' +
      'label_smoothing-corrected sigmoid (Robust DPO).',
    source: 'TRL DPOConfig loss_type; DPO (Rafailov et al. 2023), IPO (Azar et al. 2023), SLiC hinge (Zhao et al. 2023), Robust DPO (Chowdhury et al. 2024)',
    trl: { notInTrl: 'GRPOConfig has no such setting: the DPO script passes it as DPOConfig loss_type' },
  }),
  label_smoothing: num({
    default: 0,
    group: 'Algorithm',
    doc: 'Robust DPO\'s probability that a preference label is flipped (dpo_loss_type "robust"), and SimPO\'s label smoothing.',
    source: 'TRL DPOConfig / CPOConfig label_smoothing',
    range: { lo: 0, hi: 0.5, loOpen: false, hiOpen: true, advice: 'the Robust DPO paper suggests 0.1' },
    trl: { notInTrl: 'GRPOConfig has no such setting: the DPO and CPO scripts pass it as label_smoothing' },
  }),
  sft_loss_weight: num({
    default: 0,
    group: 'Algorithm',
    doc:
      'Adds TRL\'s "sft" loss term to DPO with this weight: the chosen completions\' cross-entropy (mean over their tokens); ' +
      '0 leaves it out (RPO and MPO combine it with the DPO loss).',
    source: 'TRL DPOConfig loss_type ["sigmoid", "sft"] with loss_weights [1, w]; RPO (Pang et al. 2024)',
    range: { atLeast: 0, advice: 'RPO uses 1' },
    trl: { notInTrl: 'GRPOConfig has no such setting: the DPO script passes loss_type [dpo_loss_type, "sft"], loss_weights [1, w]' },
  }),
  missing_eos_penalty: numOrNull({
    default: null,
    group: 'Algorithm',
    suggest: 1,
    doc:
      'Online DPO (algorithm "online_dpo"): subtracted from the reward of a completion that ends without the stop token ' +
      '(cut at max_completion_length) before the best and worst of its group are picked; null: no penalty.',
    source: 'TRL OnlineDPOConfig missing_eos_penalty',
    range: { atLeast: 0, advice: 'TRL\'s examples use 1.0' },
    trl: { notInTrl: 'GRPOConfig has no such setting: OnlineDPOConfig has it' },
  }),
  simpo_gamma: num({
    default: 0.5,
    group: 'Algorithm',
    doc: 'SimPO\'s target reward margin gamma (algorithm "simpo"): the loss is -logsigmoid(beta (avg logp_c - avg logp_r) - gamma).',
    source: 'TRL CPOConfig simpo_gamma; SimPO (Meng et al. 2024)',
    range: { atLeast: 0, advice: 'SimPO used 0.5 to 1.6 times beta' },
    trl: { notInTrl: 'GRPOConfig has no such setting: the CPO script passes it' },
  }),
  cpo_alpha: num({
    default: 1.0,
    group: 'Algorithm',
    doc: 'Weight of the chosen completions\' NLL in CPO and SimPO (algorithm "simpo"); 0 gives SimPO as its paper has it.',
    source: 'TRL CPOConfig cpo_alpha; CPO (Xu et al. 2024)',
    range: { atLeast: 0, advice: 'TRL\'s default is 1, pure SimPO 0' },
    trl: { notInTrl: 'GRPOConfig has no such setting: the CPO script passes it' },
  }),
  desirable_weight: num({
    default: 1.0,
    group: 'Algorithm',
    doc: 'KTO\'s weight of the desirable examples\' losses (algorithm "kto").',
    source: 'TRL KTOConfig desirable_weight; KTO (Ethayarajh et al. 2024)',
    range: { above: 0, advice: 'KTO suggests weights so that desirable x count is 1 to 4/3 of undesirable x count' },
    trl: { notInTrl: 'GRPOConfig has no such setting: the KTO script passes it' },
  }),
  undesirable_weight: num({
    default: 1.0,
    group: 'Algorithm',
    doc: 'KTO\'s weight of the undesirable examples\' losses (algorithm "kto").',
    source: 'TRL KTOConfig undesirable_weight; KTO (Ethayarajh et al. 2024)',
    range: { above: 0, advice: 'see desirable_weight' },
    trl: { notInTrl: 'GRPOConfig has no such setting: the KTO script passes it' },
  }),
  center_rewards_coefficient: num({
    default: 0,
    group: 'Algorithm',
    doc:
      'Reward models (algorithm "reward_model"): adds this x mean((r_chosen + r_rejected)^2) to the Bradley-Terry loss, ' +
      'pulling the rewards towards mean zero; 0 leaves it out (TRL\'s None).',
    source: 'TRL RewardConfig center_rewards_coefficient (Eisenstein et al. 2023, arXiv 2312.09244, eq. 2)',
    range: { atLeast: 0, advice: 'TRL recommends 0.01' },
    trl: { notInTrl: 'GRPOConfig has no such setting: the RewardTrainer script passes it (0 as None)' },
  }),
  // ---- rewards
  reward_funcs: rewardList<RewardFuncConfig>()({
    default: [{ name: 'numeric_match', weight: 1, params: {} }],
    group: 'Rewards',
    doc:
      'Reward functions with weights; a completion\'s reward is the weighted sum of their values, skipping ' +
      'functions that return null (not applicable) for it. Built-ins: ' +
      `${BUILTIN_REWARD_NAMES.join(', ')}; or "custom" with your own JavaScript in params.source.`,
    source: `${TRL} (reward_funcs, reward_weights)`,
    trl: { computed: ['reward_weights'], note: 'the functions are written out in Python; their weights are reward_weights' },
  }),
  multi_objective_aggregation: oneOf(MULTI_OBJECTIVE_AGGREGATIONS)({
    default: 'sum_then_normalize',
    group: 'Rewards',
    doc:
      'How several rewards become one advantage. "sum_then_normalize": add the weighted rewards, then compute the ' +
      'group advantage. "normalize_then_sum" (GDPO): normalise each reward within its group, add them with their ' +
      'weights, then normalise over the batch. A completion for which every reward returns null gets advantage 0 and ' +
      'leaves its group\'s baseline.',
    source: `GDPO (arXiv 2601.05242); ${TRL}`,
    trl: { trl: 'multi_objective_aggregation' },
  }),
  // ---- LoRA
  lora_r: int({
    default: 8,
    group: 'LoRA',
    doc: 'Rank of the LoRA update B·A added to each target weight. Higher can learn more, with more parameters to train.',
    source: `${LORA}; ${PEFT}`,
    range: { whole: 1 },
    trl: { peft: 'r' },
  }),
  lora_alpha: num({
    default: 16,
    group: 'LoRA',
    doc: 'Scale of the LoRA update: the update is multiplied by lora_alpha / lora_r (or lora_alpha / √lora_r with use_rslora).',
    source: `${LORA}; ${PEFT}`,
    range: { above: 0, advice: 'the update is scaled by lora_alpha / lora_r; a common choice is 2 × lora_r' },
    trl: { peft: 'lora_alpha' },
  }),
  lora_dropout: num({
    default: 0.0,
    group: 'LoRA',
    doc: 'Dropout probability on the LoRA branch\'s input during training; 0 turns it off.',
    source: PEFT,
    range: { lo: 0, hi: 1, loOpen: false, hiOpen: true, advice: '0 turns dropout off' },
    trl: { peft: 'lora_dropout' },
  }),
  lora_target_modules: listOf(LORA_TARGET_MODULES)({
    default: ['q_proj', 'k_proj', 'v_proj', 'o_proj'],
    group: 'LoRA',
    doc:
      'Which linear layers get an adapter, by the checkpoint\'s own names: attention (q_proj, k_proj, v_proj, o_proj) and MLP ' +
      '(gate_proj, up_proj, down_proj) in every family (Qwen3.5: q/k/v/o_proj on its full-attention layers only); Qwen3.5\'s ' +
      'linear-attention (Gated DeltaNet) layers add in_proj_qkv, in_proj_z, in_proj_b, in_proj_a and out_proj, which no other ' +
      'family has. A module gets an adapter on every layer that has it. More modules train more parameters.',
    source: PEFT,
    trl: { peft: 'target_modules' },
  }),
  use_rslora: bool({
    default: false,
    group: 'LoRA',
    doc: 'Rank-stabilised LoRA: scale by lora_alpha / √lora_r instead of lora_alpha / lora_r, which keeps higher ranks learning.',
    source: `rsLoRA (Kalajdzievski 2023); ${PEFT}`,
    trl: { peft: 'use_rslora' },
  }),
  // ---- run
  seed: int({
    default: 42,
    group: 'Run',
    doc: 'Seed for the LoRA initialisation, the data order, the train/eval split and sampling: the same seed, config and data give the same run.',
    source: HF,
    range: { lo: 0, hi: 0xffffffff, loOpen: false, hiOpen: false, advice: 'a whole number' },
    trl: { trl: 'seed', differs: 'the same seed does not give the same samples as PyTorch: sampling and LoRA initialisation use this playground\'s own generators' },
  }),
  max_steps: int({
    default: 100,
    group: 'Run',
    doc: 'Number of optimizer steps to train for.',
    source: HF,
    range: { whole: 1 },
    trl: { trl: 'max_steps' },
  }),
  // ---- evaluation
  eval_split: num({
    default: 0.1,
    group: 'Evaluation',
    doc: 'Fraction of the dataset held out for evaluation (0 to 0.5); never trained on. 0 means no evaluation.',
    range: { lo: 0, hi: 0.5, loOpen: false, hiOpen: false, advice: 'hold out at most half of the data for evaluation; 0 turns evaluation off' },
    trl: { computed: ['eval_strategy', 'eval_on_start'], note: 'the script holds out the same fraction (train_test_split) and evaluates before the first step and every eval_interval steps' },
  }),
  eval_interval: int({
    default: 25,
    group: 'Evaluation',
    doc: 'Evaluate every this many optimizer steps, and always before the first and after the last step. 0 evaluates only before and after.',
    source: `${HF} (eval_steps)`,
    range: { whole: 0, why: ' (0 evaluates only before the first and after the last step)' },
    trl: { computed: ['eval_steps'], note: 'eval_steps when evaluation is on; 0 becomes max_steps (evaluate at the end)' },
  }),
  eval_max_samples: int({
    default: 32,
    group: 'Evaluation',
    doc: 'At most this many held-out prompts per evaluation, to keep evaluation quick.',
    range: { whole: 1 },
    trl: { notInTrl: 'the script keeps at most this many held-out rows' },
  }),
  eval_temperature: num({
    default: 0,
    group: 'Evaluation',
    doc:
      'Temperature of the evaluation\'s completions. 0 is greedy decoding (pass@1 = greedy accuracy); above 0, pass@1 is the share of ' +
      'single sampled completions that pass (as DeepSeek-R1 reports it), with the same seed at every evaluation so that curves compare like with like. ' +
      'Setting it to the training temperature measures what the reward curve measures, on held-out prompts.',
    range: { lo: 0, hi: 2, loOpen: false, hiOpen: false, advice: '0 is greedy decoding' },
    trl: { notInTrl: 'TRL evaluates with the training temperature and reports rewards, not pass@1' },
  }),
  num_generations_eval: intOrNull({
    default: null,
    group: 'Evaluation',
    doc:
      'Completions sampled per held-out prompt at each evaluation (k of pass@k). null samples one per prompt (pass@1). ' +
      'More than one needs eval_temperature above 0, or every sample is the same greedy completion.',
    source: TRL,
    range: { whole: 1, why: ' (null samples one completion per prompt)' },
    suggest: 1,
    trl: { computed: ['num_generations_eval', 'per_device_eval_batch_size'], note: 'TRL\'s None means num_generations, so null is left out; the eval batch holds whole groups' },
  }),
  // ---- data selection (issue 29): which prompts, in which order
  pass_rate_band: textOrNull({
    default: null,
    group: 'Data selection',
    doc:
      'Train only on prompts whose pass rate in a difficulty scan lies in this band, in interval notation: "(0, 1)" keeps ' +
      'prompts the model sometimes but not always solves (the only ones whose group has a reward spread), "[0.2, 0.8]" a ' +
      'middle band. Needs a scan (the data panel\'s Scan, or `grpo-playground scan` and `train --scan FILE`); prompts the ' +
      'scan does not know are left out. null trains on every prompt.',
    source: `${LIMR}; DeepMath-103K's pass-rate filtering (He et al. 2025, arXiv 2504.11456)`,
    trl: { notInTrl: 'the script keeps the same band of its training split, by the pass_rate column export-trl --scan writes into the exported dataset' },
  }),
  curriculum: oneOf(CURRICULA)({
    default: 'shuffle',
    group: 'Data selection',
    doc:
      'The order of the training prompts: "shuffle" a new seeded order every epoch; "easy_to_hard" by the scan\'s pass rate, ' +
      'highest first (needs a scan); "by_column" by curriculum_column\'s value, ascending (numbers as numbers), the same ' +
      'order every epoch; ties keep the file\'s order.',
    source: 'curriculum RL: Kimi k1.5 (Kimi Team 2025, arXiv 2501.12599) and AceReason-Nemotron\'s staged training (Chen et al. 2025, arXiv 2505.16400)',
    trl: { computed: ['shuffle_dataset'], note: 'shuffle_dataset=False, and the script orders its training split the same way (easy_to_hard: by the pass_rate column export-trl --scan writes)' },
  }),
  curriculum_column: textOrNull({
    default: null,
    group: 'Data selection',
    doc: 'The dataset column curriculum "by_column" orders by (e.g. "level" or "difficulty"); every training row needs it.',
    trl: { notInTrl: 'the script orders its training split by this column as the playground does' },
  }),
  curriculum_phases: textOrNull({
    default: null,
    group: 'Data selection',
    doc:
      'Staged training: a JSON list of phases, each {"steps": N, "column": C, "value": V} (prompts whose column C is V), ' +
      '{"steps": N, "pass_rate_band": "(0, 1)"} (a scan\'s band) or {"steps": N} (every prompt); the last may have "steps": ' +
      'null (the rest of the run). Phase i trains on its prompts for its optimizer steps, each pass over them in a new ' +
      'seeded order. Logged as curriculum/phase. null: no phases (curriculum orders the prompts).',
    source: 'staged RL: AceReason-Nemotron\'s math-then-code stages (Chen et al. 2025, arXiv 2505.16400); Time-R1\'s phased curriculum (Liu et al. 2025, arXiv 2505.13508)',
    trl: { notInTrl: 'TRL trains on one dataset in one order; run one TRL script per phase on the phase\'s rows' },
  }),
  mixture_column: textOrNull({
    default: null,
    group: 'Data selection',
    doc: 'The dataset column naming each prompt\'s source (e.g. "source": "math", "code") for mixture_weights; each source\'s mean reward is logged as rewards_by_source/<source>.',
    trl: { notInTrl: 'no source mixtures in TRL; the script samples the file as it is' },
  }),
  mixture_weights: textOrNull({
    default: null,
    group: 'Data selection',
    doc:
      'A JSON object of source -> weight over mixture_column, e.g. {"math": 0.7, "code": 0.3}: each drawn prompt comes from a ' +
      'source picked with these weights (seeded), then that source\'s next prompt in its own seeded order. Sources it does ' +
      'not name are not trained on. null: no mixture.',
    source: 'data mixtures for multi-domain RL, e.g. MoDoMoDo (Liang et al. 2025, arXiv 2505.24871)',
    trl: { notInTrl: 'no source mixtures in TRL; the script samples the file as it is' },
  }),
  // ---- prompt
  system_prompt: textOrNull({
    default: null,
    group: 'Prompt',
    doc: 'System message put before every prompt (as the chat template\'s system turn, or as plain text above the prompt); null for none.',
    trl: { notInTrl: 'applied in the script\'s dataset map' },
  }),
  prompt_template: textOrNull({
    default: null,
    group: 'Prompt',
    doc: 'Text wrapped around each dataset prompt, with {prompt} where the prompt goes, e.g. "Question: {prompt}\\nAnswer:"; null uses the prompt as it is.',
    trl: { notInTrl: 'applied in the script\'s dataset map' },
  }),
  use_chat_template: bool({
    default: true,
    group: 'Prompt',
    doc:
      'Format prompts with the model\'s chat template (system and user turns, then the start of the assistant\'s ' +
      'turn) when the model has one; base models without a template get the plain text.',
    source: TRL,
    trl: { notInTrl: 'applied in the script\'s dataset map (conversational prompts when the tokenizer has a chat template)' },
  }),
  // ---- memory
  base_precision: oneOf(BASE_PRECISIONS)({
    default: 'auto',
    group: 'Memory',
    doc:
      'How the frozen base weights are stored on the GPU. "auto": f32 for models under 50M parameters, else 16 bits ' +
      '(the file\'s bf16/f16, bf16 for f32 files); "bf16"/"f16" halve their memory (matmuls unpack to f32 and ' +
      'accumulate in f32); "q8_0"/"q4_k" quantise the embedding, attention and MLP projections and lm_head on the ' +
      'host at load (as llama.cpp\'s quantize_row_q8_0_ref / q4_K_ref; a GGUF file\'s blocks are read under "auto") ' +
      'and run them in the quantised kernels, matrices whose rows are not whole 32 / 256-value blocks staying bf16 ' +
      '(the load summary names them; not for Gemma 4). "nf4" quantises the same matrices to bitsandbytes\' NF4 (QLoRA\'s ' +
      '4-bit NormalFloat: 64-value blocks, an f32 absmax each; rows not whole 64-value blocks stay bf16); "nf4_dq" adds ' +
      'its double quantisation (the absmax values to 8 bits in blocks of 256, stored as bitsandbytes stores them: about ' +
      '33 bytes per 64 values instead of nf4\'s 36). LoRA weights, gradients and optimizer state stay f32. ' +
      'Full-weight training needs "f32".',
    source: PLAYGROUND,
    trl: { notInTrl: 'the script loads the model with the matching torch dtype ("auto" lets transformers choose); nf4 / nf4_dq with QLoRA\'s BitsAndBytesConfig' },
  }),
  kv_precision: oneOf(KV_PRECISIONS)({
    default: 'auto',
    group: 'Memory',
    doc:
      'How the generation KV caches store keys and values. "auto": f32 for models under 50M parameters (as ' +
      'base_precision), else 16 bits: "f16" when the base is stored in f16, else "bf16"; "bf16"/"f16" halve the ' +
      'caches (values rounded to nearest even when written, unpacked to f32 in the decode attention, which ' +
      'accumulates in f32; "f16" turns keys or values beyond 65504 into Inf). Sliding-window layers (Gemma 3) keep ' +
      'caches as long as their window. LoRA weights, gradients and optimizer state stay f32.',
    source: PLAYGROUND,
    trl: { notInTrl: 'generation\'s cache precision follows the model dtype in transformers' },
  }),
  share_prompt_prefix: oneOf(SHARE_PREFIX_MODES)({
    default: 'auto',
    group: 'Memory',
    doc:
      'Shared-prefix generation: "on" prefills each prompt once for its num_generations completions and copies its ' +
      'KV caches (Qwen3.5: its linear layers\' conv and recurrent states) and last hidden state into each completion\'s ' +
      'row on the GPU, so a rollout computes 1 / num_generations of the prefill; the caches are still one per row (the ' +
      'decode memory is unchanged) and the sampled tokens equal "off"\'s for the same seed. "off" prefills every row. ' +
      '"auto": on where supported (not Gemma 4, which prefills every row, nor multi-turn tool or environment rollouts).',
    source: PLAYGROUND,
    trl: { notInTrl: 'TRL\'s generate (transformers or vLLM) handles the prompt batch itself; vLLM shares prefixes by its prefix caching' },
  }),
  share_prompt_prefix_training: oneOf(SHARE_PREFIX_MODES)({
    default: 'off',
    group: 'Memory',
    doc:
      'Shared-prefix training (as Prefix Grouper does for GRPO): "on" packs each group\'s prompt once in the policy ' +
      'update (its old and reference log-probs, the old log-probs taken at generation time under steps_per_generation ' +
      'or num_iterations > 1, and RLOO\'s KL log-probs too), its num_generations completions after it as segments that attend to ' +
      'the prompt and to themselves only, positions restarting after the prompt, so the prompt\'s tokens are forwarded ' +
      'and back-propagated once per group and the completions\' gradients into it are summed by the attention ' +
      'backward. Log-probs, losses and LoRA gradients equal "off"\'s up to float32 summation order (not bit for ' +
      'bit). It runs the direct attention kernels on every adapter (the tiled ones do not read the mask) and one ' +
      'packed row per group, so attention\'s work grows with the group\'s total length while the projections, MLP ' +
      'and LM head work on fewer tokens (key tiles masked for a whole block of rows are skipped). Llama, Qwen2, ' +
      'Qwen3 and Gemma 3 (its sliding windows counted on positions) shapes: "on" refuses Qwen3.5 (linear-attention ' +
      'layers) and Gemma 4; "auto" is on where supported and off elsewhere. ' +
      '"off" (default) packs one row per completion, bit for bit as before. Not packed either way: the sft_coef ' +
      'term\'s rows (one reference answer per prompt: nothing to share), expert_iteration and online_dpo. The metric ' +
      'num_train_tokens_computed (ours) counts the tokens the training passes forwarded. Separate from share_prompt_prefix ' +
      '(generation, exact and on by default) because it changes the update\'s rounding and kernels.',
    source: 'Prefix Grouper ("Efficient GRPO Training through Shared-Prefix Forward", 2025)',
    trl: { notInTrl: 'TRL has no shared-prefix training: it forwards every prompt + completion row in the loss (Prefix Grouper patches the attention for it); the script trains unshared, and the playground\'s log-probs, losses and gradients with it on differ from unshared rows by float rounding only' },
  }),
  recompute: oneOf(RECOMPUTE_MODES)({
    default: 'auto',
    group: 'Memory',
    doc:
      'Activation recomputation (gradient checkpointing) per layer in the policy update: "on" keeps only each ' +
      'layer\'s input (and its norm) in the training forward and recomputes the rest of the layer just before its ' +
      'backward (same gradients, about one more forward of compute); "off" keeps every activation; "auto" turns it ' +
      'on only when the memory plan finds no layout that fits the budget without it. Forwards without a backward ' +
      '(generation, reference and old log-probs) hold one layer at a time either way.',
    source: PLAYGROUND,
    trl: { notInTrl: 'TRL\'s counterpart is gradient_checkpointing (on by default in TRL)' },
  }),
  memory_budget_bytes: intOrNull({
    default: null,
    group: 'Memory',
    doc:
      'GPU memory a training step may use, in bytes. null: 2 GiB in the page (what a browser tab can usually hold), ' +
      'only the adapter\'s buffer limits in the CLI. The memory plan (shown before Start) picks rows per micro-batch and ' +
      'rows generated at once to fit it, and the page and the CLI refuse a run that cannot fit before allocating anything.',
    source: PLAYGROUND,
    range: { whole: 1, why: ' (null: 2 GiB in the page, the adapter\'s limits in the CLI)' },
    suggest: 2 ** 31,
    trl: { notInTrl: 'memory on the GPU is managed by PyTorch' },
  }),
  // ---- checkpoints and logging
  checkpoint_interval: int({
    default: 50,
    group: 'Logging and checkpoints',
    doc: 'Save the LoRA adapter every this many optimizer steps (and at the end); 0 saves only at the end.',
    source: `${HF} (save_steps)`,
    range: { whole: 0, why: ' (0 saves only at the end)' },
    trl: { computed: ['save_strategy', 'save_steps'], note: 'save_steps when set' },
  }),
  max_consecutive_skips: int({
    default: 3,
    group: 'Logging and checkpoints',
    doc:
      'An update whose loss or gradient norm is not finite (NaN or infinite) is skipped and counted; after this ' +
      'many skipped steps in a row the run pauses with a message, its last good weights and optimizer state intact.',
    range: { whole: 1, why: '' },
    trl: { notInTrl: 'the Trainer does not skip non-finite updates; the script\'s callback stops training after this many non-finite losses in a row' },
  }),
  log_completions: bool({
    default: true,
    group: 'Logging and checkpoints',
    doc: 'Keep every step\'s prompts, completions and rewards for display, so you can read what the model writes as it learns.',
    source: TRL,
    trl: { trl: 'log_completions' },
  }),
};

export type ConfigSchema = typeof SCHEMA;
export type ConfigKey = keyof ConfigSchema;

/** The run's configuration: one value per schema entry, of the entry's type. */
export type GrpoConfig = { [K in ConfigKey]: ConfigSchema[K]['default'] };

/** Every entry, typed by its field's value. */
export const FIELDS: { readonly [K in ConfigKey]: FieldEntry<GrpoConfig[K]> } = SCHEMA;

export const CONFIG_KEYS = Object.keys(SCHEMA) as ConfigKey[];

export const DEFAULT_CONFIG: Readonly<GrpoConfig> = Object.freeze(
  Object.fromEntries(CONFIG_KEYS.map((k) => [k, SCHEMA[k].default])) as GrpoConfig,
);

/** A fresh, mutable copy of the defaults. */
export function defaultConfig(): GrpoConfig {
  return cloneConfig(DEFAULT_CONFIG);
}

export function cloneConfig(c: Readonly<GrpoConfig>): GrpoConfig {
  return {
    ...c,
    reward_funcs: c.reward_funcs.map((r) => ({ name: r.name, weight: r.weight, params: structuredClone(r.params) })),
    lora_target_modules: [...c.lora_target_modules],
  };
}

export interface ConfigFieldDoc {
  doc: string;
  group: string;
  default: unknown;
  source?: string;
}

/** Help text of every field, for the UI: what it does, its default, and where it comes from. */
export const CONFIG_DOCS: Record<ConfigKey, ConfigFieldDoc> = Object.fromEntries(
  CONFIG_KEYS.map((k) => {
    const f: FieldEntry<unknown> = FIELDS[k];
    return [k, { doc: f.doc, group: f.group, default: DEFAULT_CONFIG[k], ...(f.source ? { source: f.source } : {}) }];
  }),
) as Record<ConfigKey, ConfigFieldDoc>;
