// `grpo-playground plan`: the exact memory plan of one GRPO step (src/grpo/memory_plan.ts) for a model and a
// config, without a GPU and without weights: PATH may be a folder holding only config.json (or the file).
// Families this engine runs (llama, mistral, qwen2, qwen3, gemma3_text, gemma3) are read with their own parser
// and planned with their own model code; any other decoder model_type is planned from its shapes as a Llama
// (src/model/structural_config.ts says what that leaves out) and the output says so.
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { parseHfConfig, type ModelConfig } from '../model/config';
import { configDtype, structuralConfig } from '../model/structural_config';
import { defaultConfig, modelValidationContext, parseConfigJson, type GrpoConfig } from '../grpo/config';
import { choosePlan, describePlan } from '../grpo/memory_plan';
import { CliRewardModels } from './reward_models';
import { resolveBasePrecision } from '../model/weight_storage';
import { DEFAULT_DRY_LIMITS } from '../gpu/dry_device';
import { basePrecisionOpt, parse, requireString, UsageError } from './args';
import { formatBytes } from '../gpu/buffer_pool';

async function readJson(path: string, what: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    throw new Error(`${path}: ${what} not found`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new Error(`${path}: not valid JSON (${(e as Error).message})`);
  }
}

/** The model's config from a folder with config.json, or the config.json itself. */
export async function readModelShapes(path: string): Promise<{ config: ModelConfig; structural: boolean; fileDtype?: string; source: string }> {
  let file = path;
  try {
    if ((await stat(path)).isDirectory()) file = join(path, 'config.json');
  } catch {
    throw new Error(`${path}: no such file or folder`);
  }
  if (!file.endsWith('.json')) throw new Error(`${path}: plan reads a Hugging Face config.json (or a folder holding one)`);
  const json = await readJson(file, 'config.json');
  const fileDtype = configDtype(json);
  try {
    return { config: parseHfConfig(json, file), structural: false, fileDtype, source: file };
  } catch (e) {
    if (!/is not supported/.test((e as Error).message)) throw e;
    return { config: structuralConfig(json, file), structural: true, fileDtype, source: file };
  }
}

export async function planCommand(argv: string[]): Promise<void> {
  const v = parse(argv, { model: { type: 'string' }, config: { type: 'string' }, budget: { type: 'string' }, json: { type: 'boolean' }, 'base-precision': { type: 'string' } });
  const modelPath = requireString(v, 'model');
  const shapes = await readModelShapes(modelPath);
  let config: GrpoConfig = defaultConfig();
  if (typeof v.config === 'string') {
    config = parseConfigJson(await readJson(v.config, 'config file'), v.config, modelValidationContext(shapes.config));
  }
  const basePrecision = basePrecisionOpt(v);
  if (basePrecision) config = { ...config, base_precision: basePrecision };
  let budget = config.memory_budget_bytes;
  if (v.budget !== undefined) {
    const n = Number(v.budget);
    if (typeof v.budget !== 'string' || !Number.isInteger(n) || n <= 0) throw new UsageError(`--budget must be a positive whole number of bytes, got "${String(v.budget)}"`);
    budget = n;
  }
  const storage = { basePrecision: config.base_precision, fileDtype: shapes.fileDtype };
  // reward_model entries: their adapter folders' LoRA sets are part of the step
  const rewardModels = (await CliRewardModels.read(config, shapes.config)).planSpecs();
  const plan = await choosePlan(shapes.config, config, { budgetBytes: budget, storage, rewardModels });
  if (v.json) {
    process.stdout.write(JSON.stringify({
      model: { source: shapes.source, structural: shapes.structural, architecture: shapes.config.architecture, base_precision: resolveBasePrecision(shapes.config, storage) },
      step: {
        prompts_per_step: config.prompts_per_step, num_generations: config.num_generations, gradient_accumulation_steps: config.gradient_accumulation_steps,
        max_prompt_length: config.max_prompt_length, max_completion_length: config.max_completion_length,
      },
      limits: DEFAULT_DRY_LIMITS,
      plan,
    }, null, 2) + '\n');
  } else {
    process.stdout.write(`${shapes.source}${shapes.structural ? ' (planned from its shapes as a Llama: see structural_config.ts)' : ''}\n${describePlan(plan)}\n`);
    if (budget === null) process.stdout.write(`no memory budget given (--budget or memory_budget_bytes): only the ${formatBytes(DEFAULT_DRY_LIMITS.maxBufferSize)} per-buffer limit was checked\n`);
  }
  if (!plan.fits) throw new Error(`the run does not fit: lower ${plan.advice.join('; ')}`);
}
