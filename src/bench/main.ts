// `npm run bench [-- --json] [-- FLAGS]` (`-- --help` lists them): the adapter, its measured FMA ceiling, kernel
// timings at the shapes that matter, whole-model throughput (stories260K; SmolLM2-135M's shapes with random
// weights), the GRPO step profile, memory plans and the hardware-independent costs of one decode step
// (decode_costs.ts). --json prints one JSON object (a stable format for comparing runs; fields only added,
// never renamed), with `section_seconds`: each section's wall time.
// The default run is bounded (issue 30: it finishes within 10 minutes on an idle 2-core machine): sizes are
// chosen by adapter class, and on a software adapter (SwiftShader) the long sections run only when asked:
// --big-matmul (the N^3 cube), --matmul-variants (every f32 and packed 16-bit matmul variant on the sweep shapes), --smollm2 (the SmolLM2-135M model bench and its real reduced GRPO step);
// --memory-plans (the dry-run memory plans, minutes of host CPU on any adapter);
// --full runs every section at full size (the run before issue 30: tens of minutes on SwiftShader). On a
// hardware adapter every section runs by default; --no-smollm2 and --no-big-matmul skip them there.
// --models-only skips the kernel timings (the ceiling is still measured: the GRPO step's model-FLOP
// utilisation needs it); --kernels-only skips the models.
// Kernel variants: every matmul variant this adapter can run is timed on the sweep shapes (names end in
// [variant]); `--matmul-size N` sets the big cube (default 4096 on a hardware adapter, 1024 on a software
// one, where 4096^3 takes minutes); `--no-autotune` reports the fixed table instead of autotuning the
// benchmark's shapes. JSON adds `big_matmul` and `autotune` (fields only added, never renamed).
// `--matmul-variants-only [--variant-cube N] [--variant-linear IN OUT]`: only the variant sweeps (every f32
// matmul variant on the N^3 cube, default 512, and the decode shapes (8 and 32 rows) of a linear layer IN -> OUT,
// default SmolLM2's MLP up projection 576 -> 1536; every packed 16-bit variant on that layer at M = 2 and 32),
// with the autotuner's view (choices, which variants can run here and why not). Small sizes for software adapters.
// Attention and LM-head variants (src/bench/kernels/attention_variants.ts): JSON adds `attention_variants`
// and `lm_head_variants`; `--variants-only` times just those two sections.
// --decode-costs-only: only decode_costs (seconds, no GPU needed).
// `--gated-delta-only [--gated-delta-T 256,1024] [--gated-delta-C 64]`: the gated delta rule's recurrent and chunked kernels, forward
// and backward, at Qwen3.5's head shapes (src/bench/kernels/gated_delta.ts); JSON key `gated_delta`.
// --qwen3-step: only one real GRPO step of a random-weight Qwen3-0.6B (1 prompt x 2 completions, prompt 16,
// completion 8, bf16 base and KV caches under 'auto'), minutes on a software adapter.
// --qwen35-step: the same step of a random-weight Qwen3.5-0.8B (Gated DeltaNet hybrid), its peak against the plan,
// then again cut as the 2B's plan cuts it (one prompt and row at a time, narrow LM head chunks).
// --qwen35-device [--qwen35-layers N]: a random-weight Qwen3.5-0.8B's prefill and decode tokens/s (batch 1 and 32,
// f32 base) and a real GRPO step (2 prompts x 8 completions, prompt 64, completion 64, bf16 base) with its measured
// peak against the plan; JSON { adapter, qwen35: { model, real_step } } (scripts/device_bench.sh). --qwen35-layers
// keeps only the first N layers and shortens the step (prompt 8, completion 4, 2 decode steps), to check the
// section on a software adapter.
// --quant-only: the quantised-weight (GGUF block type) matmuls against bf16 at SmolLM2-135M / Qwen3-1.7B gate_proj
// shapes (src/bench/kernels/matmul_quant.ts); JSON `{ adapter, quant_kernels }`.
import { acquireNodeGpu } from '../gpu/node';
import { benchFmaCeiling } from './fma_ceiling';
import { benchBigMatmul, benchMatmul, benchMatmulCase, benchMatmulVariants, matmulBenchCases, variantSweepCases } from './kernels/matmul';
import { adapterKey, tunePending, variantReport } from '../gpu/autotune';
import { chooseMatmulPath, subgroupSizeRange } from '../gpu/kernels/matmul';
import { choosePacked16Path } from '../gpu/kernels/matmul_packed16_variants';
import { variantAvailability } from '../gpu/kernels/matmul_availability';
import { benchModelOps, SMOLLM2_SHAPES, STORIES260K_SHAPES } from './kernels/model_ops';
import { benchGatedDelta } from './kernels/gated_delta';
import { benchModel, randomWeights, type ModelBench } from './model_bench';
import { formatBench, type KernelBench } from './harness';
import { profileGrpoStep, type GrpoStepProfile } from './grpo_step';
import { defaultConfig } from '../grpo/config';
import { benchMemoryPlans, PLAN_MODELS } from './memory_plans';
import { benchRealStep } from './real_step';
import { benchSharedPrefix, GSM8K_REDUCED } from './shared_prefix';
import { benchPackedMatmul, benchPackedVariants } from './kernels/matmul_packed16';
import { benchQuantMatmul, QUANT_BENCH_SHAPES, QUANT_BENCH_TYPES } from './kernels/matmul_quant';
import { isQuantKernelType } from '../ops/ggml_types';
import { benchDecodeCosts } from './decode_costs';
import { benchFinishedRows } from './finished_rows';
import { benchContinuous } from './continuous_batching';
import { benchAttentionVariants, benchLogprobChunkVariants, formatVariantBench, type VariantBench } from './kernels/attention_variants';

const STORY_OPENINGS = ['Once upon a time, there was a', 'One day, a little', 'The cat and the', 'Tom saw a big', 'Lily went to the park with her', 'There was a happy'];
import { loadModelFromPath } from '../model/load_node';
import { parseHfConfig } from '../model/config';
import { fileURLToPath } from 'node:url';
import { mkdirSync, writeFileSync } from 'node:fs';

const argv = process.argv.slice(2);
const args = new Set(argv);
const sizeArg = argv.indexOf('--matmul-size');
const json = args.has('--json');
const log = (s: string) => {
  if (!json) process.stdout.write(s + '\n');
  else process.stderr.write(s + '\n');
};

const HELP = `npm run bench -- [--json] [flags]
  default            bounded run: sizes by adapter class; on a software adapter short timing batches, and no big
                     cube, no matmul variant sweeps, no SmolLM2 model/step
  --full             every section at full size (tens of minutes on SwiftShader)
  --big-matmul       time the N^3 cube (--matmul-size N; default 4096 hardware, 1024 software)
  --no-big-matmul    skip it (hardware adapters run it by default)
  --matmul-variants  every f32 and packed 16-bit matmul variant on the sweep shapes (default on hardware;
                     software: the chosen kernels only)
  --smollm2          SmolLM2-135M model bench + its real reduced GRPO step (minutes on SwiftShader)
  --no-smollm2       skip them (hardware adapters run them by default)
  --memory-plans     the memory plans of every public model shape (host dry runs: minutes of CPU, any adapter)
  --models-only      skip kernel timings       --kernels-only   skip models
  --no-autotune      fixed vendor table instead of autotuning (hardware)
  --decode-costs-only  only the hardware-independent decode step costs (no GPU)
  --matmul-variants-only [--variant-cube N] [--variant-linear IN OUT]   --variants-only   --packed-only
  --memory-only      --qwen3-step      --qwen35-step
  --finished-rows    rows that finish leave the decode batch vs every row to the end (stories260K, stop tokens)
  --continuous       continuous batching vs generation batches one after another (stories260K, 8 prompts x 8 in
                     slots for 2 prompts, stop tokens): decode steps, row-steps, prefill tokens, tokens/s, peak bytes
  --shared-prefix    every row prefilled / prefilled once + copies / prefilled once + shared prefix cache: prefill
                     tokens computed, KV cache and peak bytes, tokens/s, then a policy update each way (stories260K
                     at 2 x 8, 48 + 16; --shared-prefix-model smollm2, --shared-prefix-shape P,G,prompt,completion,
                     --shared-prefix-kv f32|bf16|f16, --shared-prefix-no-training)
JSON: section_seconds / section_cpu_seconds hold each section's wall and CPU time; run.sections_skipped what was left out.`;
if (args.has('--help') || args.has('-h')) {
  process.stdout.write(HELP + '\n');
  process.exit(0);
}
if (args.has('--decode-costs-only')) {
  const decodeCosts = await benchDecodeCosts(log);
  if (json) process.stdout.write(JSON.stringify({ decode_costs: decodeCosts }) + '\n');
  process.exit(0);
}

const SMOLLM2_CONFIG = {
  architectures: ['LlamaForCausalLM'], model_type: 'llama', hidden_size: 576, intermediate_size: 1536,
  num_hidden_layers: 30, num_attention_heads: 9, num_key_value_heads: 3, vocab_size: 49152, rms_norm_eps: 1e-5,
  rope_theta: 100000, max_position_embeddings: 8192, tie_word_embeddings: true, bos_token_id: 1, eos_token_id: 2,
};

// --memory-only: the memory plans (dry runs on the host) and the real reduced-batch SmolLM2-135M step
/** A real GRPO step of random-weight SmolLM2-135M at a reduced batch (1 prompt x 2 completions, 32 + 16). */
const realSmolStep = (g: Awaited<ReturnType<typeof acquireNodeGpu>>) => benchRealStep(g, 'SmolLM2-135M (random init)',
  parseHfConfig(SMOLLM2_CONFIG, 'SmolLM2-135M config'), { prompts_per_step: 1, num_generations: 2, max_prompt_length: 32, max_completion_length: 16 });
if (args.has('--packed-only')) {
  const g = await acquireNodeGpu();
  const rs = await benchPackedMatmul(g);
  for (const r of rs) log(formatBench(r));
  if (json) process.stdout.write(JSON.stringify({ kernels: rs }) + '\n');
  g.destroy();
  process.exit(0);
}
// --quant-only: the quantised-weight matmuls against bf16 at SmolLM2-135M / Qwen3-1.7B gate_proj shapes
// (src/bench/kernels/matmul_quant.ts; --quant-shapes smollm2|qwen3|all, --quant-types Q8_0,Q4_K,..,
// --quant-rows 1,64, --quant-all: every variant, --quant-no-plain: without the plain kernel)
if (args.has('--quant-only')) {
  const g = await acquireNodeGpu();
  const val = (flag: string) => (argv.indexOf(flag) >= 0 ? argv[argv.indexOf(flag) + 1] ?? '' : null);
  const shapeArg = val('--quant-shapes') ?? 'all';
  const shapes = shapeArg === 'all' ? (['smollm2', 'qwen3'] as const) : [shapeArg];
  for (const sh of shapes) if (!(sh in QUANT_BENCH_SHAPES)) throw new Error(`--quant-shapes: "${sh}" is not smollm2, qwen3 or all`);
  const types = val('--quant-types')?.split(',') ?? [...QUANT_BENCH_TYPES];
  for (const t of types) if (!isQuantKernelType(t)) throw new Error(`--quant-types: "${t}" is not a block type the quantised kernels read`);
  const rows = val('--quant-rows')?.split(',').map(Number) ?? [1, 64];
  for (const m of rows) if (!Number.isInteger(m) || m < 1) throw new Error(`--quant-rows: "${m}" is not a positive integer`);
  const rs = await benchQuantMatmul(g, {
    shapes: shapes as (keyof typeof QUANT_BENCH_SHAPES)[], types: types as typeof QUANT_BENCH_TYPES[number][], rows, all: args.has('--quant-all'), noPlain: args.has('--quant-no-plain'),
  });
  for (const r of rs) log(formatBench(r));
  if (json) process.stdout.write(JSON.stringify({ adapter: g.adapter, quant_kernels: rs }) + '\n');
  g.destroy();
  process.exit(0);
}
/** What the autotuner knows beyond its choices (fields added to `autotune`). */
const variantFields = (g: Awaited<ReturnType<typeof acquireNodeGpu>>) => ({
  variant_availability: variantAvailability(g),
  subgroup_sizes: g.device.features.has('subgroups') ? subgroupSizeRange(g) : null,
  shader_f16: g.device.features.has('shader-f16' as GPUFeatureName),
});
if (args.has('--matmul-variants-only')) {
  const g = await acquireNodeGpu();
  log(`adapter: ${g.describe()}`);
  const int = (flag: string, at: number, fallback: number): number => {
    const i = argv.indexOf(flag);
    const v = i >= 0 ? Number(argv[i + at]) : fallback;
    if (!Number.isInteger(v) || v < 2 || v % 2) throw new Error(`${flag}: "${argv[i + at]}" is not an even integer >= 2`);
    return v;
  };
  const n = int('--variant-cube', 1, 512);
  const [IN, OUT] = [int('--variant-linear', 1, 576), int('--variant-linear', 2, 1536)];
  const opts = g.adapter.isSoftware ? { warmup: 1, minMs: 50, batches: 2 } : {};
  const rs = [...(await benchMatmulVariants(g, variantSweepCases(n, IN, OUT), opts)), ...(await benchPackedVariants(g, IN, OUT, [2, 32], opts))];
  for (const r of rs) log(formatBench(r));
  // on hardware, the autotuner's pick for each swept shape class (a software adapter keeps its kernels)
  const enabled = !args.has('--no-autotune') && !g.adapter.isSoftware;
  for (const c of variantSweepCases(n, IN, OUT)) chooseMatmulPath(g, { Bt: 1, M: c.out[0], K: c.a[1], N: c.out[1], batchedA: false, batchedB: false }, c.opts);
  if (enabled) for (const e of await tunePending(g, { budgetMs: 20_000, perCandidateMs: 20 })) log(`autotune ${e.shapeClass}: ${e.variant} ${e.gflops.toFixed(1)} GFLOP/s`);
  const autotune = { enabled, adapter_key: adapterKey(g.adapter), choices: variantReport(g), ...variantFields(g) };
  if (json) process.stdout.write(JSON.stringify({ adapter: { ...g.adapter, limits: undefined }, kernels: rs, autotune }) + '\n');
  g.destroy();
  process.exit(0);
}
if (args.has('--gated-delta-only')) {
  // the gated delta rule, recurrent against chunked, forward and backward (Qwen3.5's head shapes); --gated-delta-T
  // takes a comma-separated list of sequence lengths (default 256,1024), --gated-delta-C of chunk lengths (default 64)
  const g = await acquireNodeGpu();
  log(`adapter: ${g.describe()}`);
  const tArg = argv.indexOf('--gated-delta-T');
  const Ts = (tArg >= 0 ? argv[tArg + 1] ?? '' : '256,1024').split(',').map((x) => Number(x));
  for (const T of Ts) if (!Number.isInteger(T) || T < 1 || T > 65536) throw new Error(`--gated-delta-T: "${argv[tArg + 1]}" is not a list of lengths in 1..65536`);
  const cArg = argv.indexOf('--gated-delta-C');
  const Cs = (cArg >= 0 ? argv[cArg + 1] ?? '' : '64').split(',').map((x) => Number(x));
  for (const C of Cs) if (!Number.isInteger(C) || C < 1 || C > 64) throw new Error(`--gated-delta-C: "${argv[cArg + 1]}" is not a list of chunk lengths in 1..64`);
  const gatedDelta = await benchGatedDelta(g, Ts, Cs);
  for (const r of gatedDelta) log(formatBench(r));
  if (json) process.stdout.write(JSON.stringify({ adapter: g.describe(), gated_delta: gatedDelta }) + '\n');
  g.destroy();
  process.exit(0);
}
if (args.has('--variants-only')) {
  const g = await acquireNodeGpu();
  log(`adapter: ${g.describe()}`);
  const attention = await benchAttentionVariants(g);
  for (const r of attention) log(formatVariantBench(r));
  const lmHead = await benchLogprobChunkVariants(g);
  for (const r of lmHead) log(formatVariantBench(r));
  if (json) process.stdout.write(JSON.stringify({ adapter: g.describe(), attention_variants: attention, lm_head_variants: lmHead }) + '\n');
  g.destroy();
  process.exit(0);
}
const QWEN3_06B_CONFIG = {
  architectures: ['Qwen3ForCausalLM'], model_type: 'qwen3', vocab_size: 151936, hidden_size: 1024, intermediate_size: 3072,
  num_hidden_layers: 28, num_attention_heads: 16, num_key_value_heads: 8, head_dim: 128, hidden_act: 'silu',
  max_position_embeddings: 40960, rms_norm_eps: 1e-6, rope_theta: 1000000, tie_word_embeddings: true, bos_token_id: 151643, eos_token_id: 151645,
};
if (args.has('--qwen3-step')) {
  const g = await acquireNodeGpu();
  const step = await benchRealStep(g, 'Qwen3-0.6B (random init)', parseHfConfig(QWEN3_06B_CONFIG, 'Qwen3-0.6B config'),
    { prompts_per_step: 1, num_generations: 2, max_prompt_length: 16, max_completion_length: 8, base_precision: 'bf16' }, 1);
  log(JSON.stringify(step));
  if (json) process.stdout.write(JSON.stringify({ adapter: g.describe(), real_step: [step] }) + '\n');
  g.destroy();
  process.exit(0);
}
if (args.has('--qwen35-step')) {
  // Qwen3.5-0.8B's own config (PLAN_MODELS, the Hub's format): Gated DeltaNet and gated full layers, decoding with
  // the linear layers' states; the measured peak must equal the dry run's plan of the same step
  const g = await acquireNodeGpu();
  const m = PLAN_MODELS.find((x) => x.name === 'Qwen3.5-0.8B')!;
  const mc = parseHfConfig(m.json, 'Qwen3.5-0.8B config');
  const step = await benchRealStep(g, 'Qwen3.5-0.8B (random init)', mc,
    { prompts_per_step: 1, num_generations: 2, max_prompt_length: 16, max_completion_length: 8, base_precision: 'bf16' }, 1);
  log(JSON.stringify(step));
  // the cut the 2B's plan needs (memory_plans.ts): one prompt generated at a time with idle buffers freed before
  // each prefill and decode, one row per pass, recomputation, narrow LM head chunks (1 MiB: dozens of chunks even
  // at these lengths), and its measured peak against the dry run of the same layout
  const cut = await benchRealStep(g, 'Qwen3.5-0.8B (random init, the 2B plan\'s cut)', mc,
    { prompts_per_step: 2, num_generations: 2, max_prompt_length: 16, max_completion_length: 8, base_precision: 'bf16', recompute: 'auto' }, 1,
    { generationPrompts: 1, rowsPerPass: 1, trimBetweenPhases: true, recompute: true, lmHeadChunkBytes: 2 ** 20 });
  log(JSON.stringify(cut));
  if (json) process.stdout.write(JSON.stringify({ adapter: g.describe(), real_step: [step, cut] }) + '\n');
  g.destroy();
  process.exit(0);
}
if (args.has('--qwen35-device')) {
  const g = await acquireNodeGpu();
  const m = PLAN_MODELS.find((x) => x.name === 'Qwen3.5-0.8B')!;
  const li = argv.indexOf('--qwen35-layers');
  const layers = li >= 0 ? Number(argv[li + 1]) : null;
  if (layers !== null && (!Number.isInteger(layers) || layers < 1 || layers > 24)) throw new Error(`--qwen35-layers: "${argv[li + 1]}" is not 1..24`);
  const text = { ...(m.json.text_config as Record<string, unknown>) };
  if (layers !== null) text.num_hidden_layers = layers;
  const mc = parseHfConfig({ ...m.json, text_config: text }, 'Qwen3.5-0.8B config');
  const name = `Qwen3.5-0.8B (random init${layers !== null ? `, first ${layers} layers` : ''})`;
  const small = layers !== null;
  const model = await benchModel(g, name, mc, randomWeights(mc, 1), small
    ? { promptLen: 8, decodeSteps: 2, trainB: 1, trainT: 8 } : { promptLen: 64, decodeSteps: 32, trainB: 2, trainT: 128 });
  log(JSON.stringify(model));
  const step = await benchRealStep(g, name, mc, small
    ? { prompts_per_step: 1, num_generations: 2, max_prompt_length: 8, max_completion_length: 4, base_precision: 'bf16' }
    : { prompts_per_step: 2, num_generations: 8, max_prompt_length: 64, max_completion_length: 64, base_precision: 'bf16' }, 2);
  log(JSON.stringify(step));
  if (json) process.stdout.write(JSON.stringify({ adapter: g.describe(), qwen35: { model, real_step: step } }) + '\n');
  g.destroy();
  process.exit(0);
}
// --shared-prefix: generation with every row prefilled, each prompt prefilled once with its k/v copied into each
// row's cache, and prefilled once with a shared prompt-prefix cache, in one run (src/bench/shared_prefix.ts): prefill
// tokens computed, decode tokens, KV cache bytes, peak bytes and generation tokens/s each way; then one policy
// update each way (--shared-prefix-no-training: not). Default: stories260K at GSM8K_REDUCED (2 x 8, 48 + 16);
// --shared-prefix-model smollm2 (random-weight SmolLM2-135M), --shared-prefix-shape P,G,prompt,completion (e.g.
// 4,8,192,256), --shared-prefix-kv f32|bf16|f16
if (args.has('--shared-prefix')) {
  const g = await acquireNodeGpu();
  const val = (flag: string) => (argv.indexOf(flag) >= 0 ? argv[argv.indexOf(flag) + 1] ?? '' : null);
  const shapeArg = val('--shared-prefix-shape')?.split(',').map(Number);
  const shape = shapeArg ? { prompts: shapeArg[0], numGenerations: shapeArg[1], promptLen: shapeArg[2], maxNewTokens: shapeArg[3] } : GSM8K_REDUCED;
  const bo = { kvPrecision: (val('--shared-prefix-kv') ?? 'auto') as 'auto' | 'f32' | 'bf16' | 'f16', training: !args.has('--shared-prefix-no-training'), log };
  let r;
  if (val('--shared-prefix-model') === 'smollm2') {
    const mc = parseHfConfig(SMOLLM2_CONFIG, 'SmolLM2-135M config');
    r = await benchSharedPrefix(g, 'SmolLM2-135M (random init)', mc, randomWeights(mc, 1), shape, bo);
  } else {
    const stories = await loadModelFromPath(process.env.GRPO_BENCH_STORIES ?? fileURLToPath(new URL('../../../shared/models/stories260K/stories260K.bin', import.meta.url)));
    r = await benchSharedPrefix(g, 'stories260K', stories.config, stories.weights, shape, bo);
  }
  log(JSON.stringify(r));
  if (json) process.stdout.write(JSON.stringify({ adapter: g.describe(), shared_prefix: r }) + '\n');
  g.destroy();
  process.exit(0);
}
// --finished-rows: rows that finish leave the decode batch, against every row decoded to the last step, at a
// rollout shape with stop tokens on stories260K (src/bench/finished_rows.ts): decode row-steps and tokens/s each way
if (args.has('--finished-rows')) {
  const g = await acquireNodeGpu();
  const stories = await loadModelFromPath(process.env.GRPO_BENCH_STORIES ?? fileURLToPath(new URL('../../../shared/models/stories260K/stories260K.bin', import.meta.url)));
  const enc = (s: string) => stories.tokenizer.encode(s, { addBos: true });
  const prompts = ['Once upon a time', 'The little dog', 'Lily and Tom went to the park', 'One day, a girl'].map(enc);
  const r = await benchFinishedRows(g, 'stories260K', stories.config, stories.weights, prompts, [...stories.tokenizer.eosIds, ...enc('.').slice(1)]);
  log(JSON.stringify(r));
  if (json) process.stdout.write(JSON.stringify({ adapter: g.describe(), finished_rows: r }) + '\n');
  g.destroy();
  process.exit(0);
}
// --continuous: a rollout whose prompts take several generation batches, as one continuous batch (slots refilled as
// rows stop) against the batches one after another (src/bench/continuous_batching.ts)
if (args.has('--continuous')) {
  const g = await acquireNodeGpu();
  const stories = await loadModelFromPath(process.env.GRPO_BENCH_STORIES ?? fileURLToPath(new URL('../../../shared/models/stories260K/stories260K.bin', import.meta.url)));
  const enc = (s: string) => stories.tokenizer.encode(s, { addBos: true });
  const prompts = ['Once upon a time', 'The little dog', 'Lily and Tom went to the park', 'One day, a girl', ...STORY_OPENINGS].map(enc);
  const r = await benchContinuous(g, 'stories260K', stories.config, stories.weights, prompts, [...stories.tokenizer.eosIds, ...enc('.').slice(1)]);
  log(JSON.stringify(r));
  if (json) process.stdout.write(JSON.stringify({ adapter: g.describe(), continuous_batching: r }) + '\n');
  g.destroy();
  process.exit(0);
}
if (args.has('--memory-only')) {
  const memoryPlans = await benchMemoryPlans(log);
  const g = await acquireNodeGpu();
  const realStep = await realSmolStep(g);
  log(JSON.stringify(realStep));
  if (json) process.stdout.write(JSON.stringify({ adapter: g.describe(), memory_plans: memoryPlans, real_step: [realStep] }) + '\n');
  g.destroy();
  process.exit(0);
}

const runStart = performance.now();
const sectionSeconds: Record<string, number> = {};
// CPU seconds of this process (SwiftShader's threads included): on a loaded machine the wall time says more
// about the other processes than about the bench; on an idle one a section's wall time is about its CPU time
// divided by the cores it keeps busy (1 to 2 on a 2-core machine)
const sectionCpuSeconds: Record<string, number> = {};
const cpuSeconds = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};
/** Runs one section and records its wall time (JSON section_seconds) and CPU time (section_cpu_seconds). */
async function section<T>(name: string, fn: () => Promise<T>): Promise<T> {
  const t0 = performance.now();
  const c0 = cpuSeconds();
  try {
    return await fn();
  } finally {
    sectionSeconds[name] = (performance.now() - t0) / 1000;
    sectionCpuSeconds[name] = cpuSeconds() - c0;
    log(`section ${name}: ${sectionSeconds[name].toFixed(1)} s wall, ${sectionCpuSeconds[name].toFixed(1)} s CPU`);
  }
}
const gpu = await acquireNodeGpu();
log(`adapter: ${gpu.describe()}`);
const soft = gpu.adapter.isSoftware;
const full = args.has('--full');
// long sections: on by default on hardware adapters, behind flags on software ones
const runBigMatmul = full || args.has('--big-matmul') || (!soft && !args.has('--no-big-matmul'));
const runSmol = !args.has('--no-smollm2') && (full || args.has('--smollm2') || !soft);
// timing sizes by adapter class: a software adapter times shorter batches (its kernels are ms to s each)
const quick = soft && !full ? { warmup: 1, minMs: 50, batches: 2 } : {};
const bigN = sizeArg >= 0 ? Number(argv[sizeArg + 1]) : soft ? 1024 : 4096;
if (!Number.isInteger(bigN) || bigN < 1) throw new Error(`--matmul-size: "${argv[sizeArg + 1]}" is not a positive integer`);
const autotuneOn = !args.has('--no-autotune');
// Autotune the benchmark's matmul shapes first (hardware adapters; a software adapter keeps its kernels),
// so that the timings below run the choices a training run would make.
if (autotuneOn && !soft) await section('autotune', async () => {
  for (const c of [...matmulBenchCases(), ...variantSweepCases()]) {
    chooseMatmulPath(gpu, { Bt: 1, M: c.out[0], K: c.opts.transA ? c.a[0] : c.a[1], N: c.out[1], batchedA: false, batchedB: false }, c.opts);
  }
  if (runBigMatmul) chooseMatmulPath(gpu, { Bt: 1, M: bigN, K: bigN, N: bigN, batchedA: false, batchedB: false }); // the big cube's class too
  for (const M of [2, 128]) {
    // the packed 16-bit matmuls of benchPackedMatmul (SmolLM2's MLP up projection), both directions
    choosePacked16Path(gpu, { dir: 'forward', format: 'bf16', M, K: 576, N: 1536 });
    choosePacked16Path(gpu, { dir: 'backward', format: 'bf16', M, K: 576, N: 1536 });
  }
  const tuned = await tunePending(gpu, { budgetMs: 20_000, perCandidateMs: 20 });
  for (const e of tuned) log(`autotune ${e.shapeClass}: ${e.variant} ${e.gflops.toFixed(1)} GFLOP/s (${e.candidates.length} candidates)`);
});
const ceiling = await section('fma_ceiling', () => benchFmaCeiling(gpu));
log(formatBench(ceiling));
const kernels: KernelBench[] = [];
const record = (rs: KernelBench[]) => {
  for (const r of rs) {
    kernels.push(r);
    log(formatBench(r, ceiling.gflops));
  }
};
let bigMatmul: KernelBench | null = null;
const attentionVariants: VariantBench[] = [];
const lmHeadVariants: VariantBench[] = [];
if (!args.has('--models-only')) {
  // on a software adapter by default: each case on the kernel matmul() picks; the GPU-class variants' sweep
  // (slow there, and not what it runs) with --matmul-variants (or --matmul-variants-only)
  const variantSweep = !soft || full || args.has('--matmul-variants');
  record(await section('matmul', async () => {
    if (variantSweep) return benchMatmul(gpu, quick);
    const rs: KernelBench[] = [];
    for (const c of [...matmulBenchCases(), ...variantSweepCases().slice(1)]) rs.push(await benchMatmulCase(gpu, c, quick));
    return rs;
  }));
  if (runBigMatmul) {
    bigMatmul = await section('big_matmul', () => benchBigMatmul(gpu, bigN));
    record([bigMatmul]);
  }
  record(await section('model_ops_stories260K', () => benchModelOps(gpu, STORIES260K_SHAPES, quick)));
  record(await section('model_ops_SmolLM2', () => benchModelOps(gpu, SMOLLM2_SHAPES, quick)));
  record(await section('packed_matmul', () => benchPackedMatmul(gpu)));
  if (variantSweep) record(await section('packed_variants', () => benchPackedVariants(gpu, 576, 1536, [2, 128], soft ? { warmup: 1, minMs: 50, batches: 2 } : {})));
  attentionVariants.push(...(await section('attention_variants', () => benchAttentionVariants(gpu))));
  lmHeadVariants.push(...(await section('lm_head_variants', () => benchLogprobChunkVariants(gpu))));
  for (const r of [...attentionVariants, ...lmHeadVariants]) log(formatVariantBench(r));
}

const models: ModelBench[] = [];
const grpoSteps: GrpoStepProfile[] = [];
if (!args.has('--kernels-only')) {
  const storiesPath = process.env.GRPO_BENCH_STORIES ?? fileURLToPath(new URL('../../../shared/models/stories260K/stories260K.bin', import.meta.url));
  const stories = await loadModelFromPath(storiesPath);
  models.push(await section('model_stories260K', () => benchModel(gpu, 'stories260K', stories.config, stories.weights, { promptLen: 32, decodeSteps: 32, trainB: 8, trainT: 64 })));
  log(JSON.stringify(models[models.length - 1]));
  const rows = STORY_OPENINGS.map((prompt, i) => ({ prompt, answer: 'dog', line: i + 1, raw: {} }));
  const config = { ...defaultConfig(), num_generations: 8, prompts_per_step: 2, max_completion_length: 16, learning_rate: 0.003,
    reward_funcs: [{ name: 'contains', weight: 1, params: {} }], use_chat_template: false, eval_split: 0 };
  grpoSteps.push(await section('grpo_step_stories260K', () => profileGrpoStep(gpu, stories, rows, config, ceiling.gflops, soft && !full ? { warmup: 2, steps: 2 } : { warmup: 3, steps: 3 })));
  log(JSON.stringify(grpoSteps[grpoSteps.length - 1]));
  if (runSmol) {
    const smol = parseHfConfig(SMOLLM2_CONFIG, 'SmolLM2-135M config');
    models.push(await section('model_SmolLM2', () => benchModel(gpu, 'SmolLM2-135M (random init)', smol, randomWeights(smol, 1), { promptLen: 32, decodeSteps: 4, trainB: 2, trainT: 64 })));
    log(JSON.stringify(models[models.length - 1]));
  }
}

// the memory plans are dry runs on the host (minutes of one CPU core for every model and layout, whatever the
// adapter): with --memory-plans, --full or --memory-only
const runPlans = full || args.has('--memory-plans');
const memoryPlans = runPlans ? await section('memory_plans', () => benchMemoryPlans(log)) : [];
const decodeCosts = await section('decode_costs', () => benchDecodeCosts(log));
const realSteps = args.has('--kernels-only') || !runSmol ? [] : [await section('real_step_SmolLM2', () => realSmolStep(gpu))];
sectionSeconds.total = (performance.now() - runStart) / 1000;
sectionCpuSeconds.total = cpuSeconds();
const skipped = [...(runBigMatmul ? [] : ['big_matmul (--big-matmul)']), ...(soft && !full && !args.has('--matmul-variants') ? ['matmul and packed 16-bit variant sweeps (--matmul-variants)'] : []), ...(runSmol ? [] : ['model_SmolLM2, real_step_SmolLM2 (--smollm2)']), ...(runPlans ? [] : ['memory_plans (--memory-plans)'])];

const result = {
  adapter: { ...gpu.adapter, limits: undefined, maxBufferSize: gpu.device.limits.maxBufferSize },
  fma_ceiling_gflops: ceiling.gflops,
  kernels: kernels.map((k) => ({ ...k, fraction_of_ceiling: k.gflops / ceiling.gflops })),
  models,
  grpo_step: grpoSteps,
  memory_plans: memoryPlans,
  real_step: realSteps,
  big_matmul: bigMatmul,
  attention_variants: attentionVariants,
  lm_head_variants: lmHeadVariants,
  decode_costs: decodeCosts,
  section_seconds: sectionSeconds,
  section_cpu_seconds: sectionCpuSeconds,
  run: { full, sections_skipped: skipped, timing: soft && !full ? 'software adapter: short timing batches' : 'default timing batches' },
  autotune: {
    enabled: autotuneOn && !gpu.adapter.isSoftware,
    note: gpu.adapter.isSoftware ? 'software adapter: the software kernels always run (never tuned)' : autotuneOn ? 'tuned at the benchmark shapes' : '--no-autotune: fixed vendor table',
    adapter_key: adapterKey(gpu.adapter),
    choices: variantReport(gpu),
    ...variantFields(gpu),
  },
};
if (json) process.stdout.write(JSON.stringify(result) + '\n');
// also kept on disk, so that runs can be compared (bench-results/ is ignored by git)
mkdirSync('bench-results', { recursive: true });
writeFileSync(`bench-results/bench-${new Date().toISOString().replace(/[:.]/g, '-')}.json`, JSON.stringify(result, null, 1) + '\n');
gpu.destroy();
