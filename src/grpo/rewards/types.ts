// The shape of a reward function and its parameters. A reward returns a number, or null for "this
// function does not apply to this row" (TRL's None): null is skipped in the weighted sum, never read as 0.

export type RewardParams = Record<string, unknown>;

/** What the trainer knows about a completion besides its text. */
export interface RewardInfo {
  /** length of the completion in tokens; length-based rewards count tokens when this is given, else characters */
  completion_tokens?: number;
  /** the run's max_completion_length (tokens); soft_overlong uses it when its own parameter is null */
  max_completion_length?: number;
  /** the completions of this completion's group (the same prompt's num_generations samples, this one
   * included, in sampling order); absent where there is no group (a lone completion) */
  group_completions?: readonly string[];
}

export type RewardFn = (completion: string, answer: string, prompt: string, params: RewardParams, info?: RewardInfo) => number | null;

export type RewardParamType = 'number' | 'integer' | 'boolean' | 'string' | 'regex' | 'choice';

export interface RewardParamSpec {
  name: string;
  type: RewardParamType;
  default: unknown;
  doc: string;
  /** null is an allowed value (it then means what `doc` says) */
  nullable?: boolean;
  /** inclusive lower bound for number/integer */
  min?: number;
  /** exclusive lower bound for number/integer */
  greaterThan?: number;
  choices?: readonly string[];
}

export interface RewardFuncEntry {
  doc: string;
  params: readonly RewardParamSpec[];
  fn: RewardFn;
}
