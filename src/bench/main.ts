// `npm run bench [-- --json] [-- --kernels-only | --models-only | --memory-only | --qwen3-step | --qwen35-step] [-- --no-smollm2]`: the adapter, its measured
// FMA ceiling, kernel timings at the shapes that matter, and whole-model throughput for stories260K and a
// randomly initialised model with SmolLM2-135M's shapes. --json prints one JSON object (a stable format for
// comparing runs). --models-only skips the kernel timings (the ceiling is still measured: the GRPO step's
// model-FLOP utilisation needs it); --no-smollm2 skips the SmolLM2-shaped model (minutes on SwiftShader).
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
// `--gated-delta-only [--gated-delta-T 256,1024] [--gated-delta-C 64]`: the gated delta rule's recurrent and chunked kernels, forward
// and backward, at Qwen3.5's head shapes (src/bench/kernels/gated_delta.ts); JSON key `gated_delta`.
// --qwen3-step: only one real GRPO step of a random-weight Qwen3-0.6B (1 prompt x 2 completions, prompt 16,
// completion 8, bf16 base and KV caches under 'auto'), minutes on a software adapter.
// --qwen35-step: the same step of a random-weight Qwen3.5-0.8B (Gated DeltaNet hybrid), its peak against the plan.
import { acquireNodeGpu } from '../gpu/node';
import { benchFmaCeiling } from './fma_ceiling';
import { benchBigMatmul, benchMatmul, benchMatmulVariants, matmulBenchCases, variantSweepCases } from './kernels/matmul';
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
import { benchPackedMatmul, benchPackedVariants } from './kernels/matmul_packed16';
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
  const step = await benchRealStep(g, 'Qwen3.5-0.8B (random init)', parseHfConfig(m.json, 'Qwen3.5-0.8B config'),
    { prompts_per_step: 1, num_generations: 2, max_prompt_length: 16, max_completion_length: 8, base_precision: 'bf16' }, 1);
  log(JSON.stringify(step));
  if (json) process.stdout.write(JSON.stringify({ adapter: g.describe(), real_step: [step] }) + '\n');
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

const gpu = await acquireNodeGpu();
log(`adapter: ${gpu.describe()}`);
const bigN = sizeArg >= 0 ? Number(argv[sizeArg + 1]) : gpu.adapter.isSoftware ? 1024 : 4096;
if (!Number.isInteger(bigN) || bigN < 1) throw new Error(`--matmul-size: "${argv[sizeArg + 1]}" is not a positive integer`);
const autotuneOn = !args.has('--no-autotune');
// Autotune the benchmark's matmul shapes first (hardware adapters; a software adapter keeps its kernels),
// so that the timings below run the choices a training run would make.
if (autotuneOn && !gpu.adapter.isSoftware) {
  for (const c of [...matmulBenchCases(), ...variantSweepCases()]) {
    chooseMatmulPath(gpu, { Bt: 1, M: c.out[0], K: c.opts.transA ? c.a[0] : c.a[1], N: c.out[1], batchedA: false, batchedB: false }, c.opts);
  }
  chooseMatmulPath(gpu, { Bt: 1, M: bigN, K: bigN, N: bigN, batchedA: false, batchedB: false }); // the big cube's class too
  for (const M of [2, 128]) {
    // the packed 16-bit matmuls of benchPackedMatmul (SmolLM2's MLP up projection), both directions
    choosePacked16Path(gpu, { dir: 'forward', format: 'bf16', M, K: 576, N: 1536 });
    choosePacked16Path(gpu, { dir: 'backward', format: 'bf16', M, K: 576, N: 1536 });
  }
  const tuned = await tunePending(gpu, { budgetMs: 20_000, perCandidateMs: 20 });
  for (const e of tuned) log(`autotune ${e.shapeClass}: ${e.variant} ${e.gflops.toFixed(1)} GFLOP/s (${e.candidates.length} candidates)`);
}
const ceiling = await benchFmaCeiling(gpu);
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
  record(await benchMatmul(gpu));
  bigMatmul = await benchBigMatmul(gpu, bigN);
  record([bigMatmul]);
  record(await benchModelOps(gpu, STORIES260K_SHAPES));
  record(await benchModelOps(gpu, SMOLLM2_SHAPES));
  record(await benchPackedMatmul(gpu));
  record(await benchPackedVariants(gpu, 576, 1536, [2, 128], gpu.adapter.isSoftware ? { warmup: 1, minMs: 50, batches: 2 } : {}));
  attentionVariants.push(...(await benchAttentionVariants(gpu)));
  lmHeadVariants.push(...(await benchLogprobChunkVariants(gpu)));
  for (const r of [...attentionVariants, ...lmHeadVariants]) log(formatVariantBench(r));
}

const models: ModelBench[] = [];
const grpoSteps: GrpoStepProfile[] = [];
if (!args.has('--kernels-only')) {
  const storiesPath = process.env.GRPO_BENCH_STORIES ?? fileURLToPath(new URL('../../../shared/models/stories260K/stories260K.bin', import.meta.url));
  const stories = await loadModelFromPath(storiesPath);
  models.push(await benchModel(gpu, 'stories260K', stories.config, stories.weights, { promptLen: 32, decodeSteps: 32, trainB: 8, trainT: 64 }));
  log(JSON.stringify(models[models.length - 1]));
  const rows = STORY_OPENINGS.map((prompt, i) => ({ prompt, answer: 'dog', line: i + 1, raw: {} }));
  const config = { ...defaultConfig(), num_generations: 8, prompts_per_step: 2, max_completion_length: 16, learning_rate: 0.003,
    reward_funcs: [{ name: 'contains', weight: 1, params: {} }], use_chat_template: false, eval_split: 0 };
  grpoSteps.push(await profileGrpoStep(gpu, stories, rows, config, ceiling.gflops, { warmup: 3, steps: 3 }));
  log(JSON.stringify(grpoSteps[grpoSteps.length - 1]));
  if (!args.has('--no-smollm2')) {
    const smol = parseHfConfig(SMOLLM2_CONFIG, 'SmolLM2-135M config');
    models.push(await benchModel(gpu, 'SmolLM2-135M (random init)', smol, randomWeights(smol, 1), { promptLen: 32, decodeSteps: 4, trainB: 2, trainT: 64 }));
    log(JSON.stringify(models[models.length - 1]));
  }
}

const memoryPlans = await benchMemoryPlans(log);
const realSteps = args.has('--kernels-only') || args.has('--no-smollm2') ? [] : [await realSmolStep(gpu)];

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
