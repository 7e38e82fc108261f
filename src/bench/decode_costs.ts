// decode_costs for `npm run bench`: the hardware-independent costs of one decode step (issue 30), counted on a
// dry runtime (src/gpu/dry_device.ts: the engine's host code runs unchanged, no GPU work), so a change can be
// judged before a GPU is lent and without SwiftShader's minutes:
//   - compute dispatches and submits per decode step (one generated token per row),
//   - GPU->CPU readbacks per decode step (generate() reads the sampled ids every checkEvery steps when there
//     are stop ids: measured with one stop id that is never sampled, so every row runs to the limit),
//   - storage bytes bound per generated token, summed over the step's dispatches (binding sizes, by access),
//     and a model of the bytes actually read (bound 'read' bytes, less the part of a gather's table that is
//     not read: the embedding lookup reads B rows, not the table), against the weight bytes: the floor a
//     memory-bound decode cannot beat is reading every weight once per step, i.e. weight bytes / B per token.
// A step is counted as the difference of generate() with 1 + N and with 1 new tokens (N decode steps, the
// caches ending at `positions`), divided by N. Shapes are public configs' (random weights are not needed: no
// data is uploaded on a dry runtime). The dry adapter is a hardware-like one without optional features
// (no subgroups, no shader-f16), so the kernels counted are those a plain WebGPU adapter runs.
import { createDryRuntime } from '../gpu/dry_device';
import type { AdapterSummary, GpuRuntime, KernelCost } from '../gpu/runtime';
import { parseHfConfig, type ModelConfig } from '../model/config';
import { GpuTransformer } from '../model/transformer';
import { generate } from '../model/generate';
import { baseWeightBytes, resolveBasePrecision, type BaseStorageOptions } from '../model/weight_storage';

export interface DecodeCostRow {
  model: string;
  base: string;
  batch: number;
  /** KV cache positions at the end of the counted steps */
  positions: number;
  decode_steps_counted: number;
  dispatches_per_step: number;
  submits_per_step: number;
  readbacks_per_step: number;
  /** storage bytes bound per generated token (all dispatches of a step / batch), by binding access */
  bound_read_bytes_per_token: number;
  bound_read_write_bytes_per_token: number;
  /** the model of bytes read per token: bound read-only bytes, gathers counted by the rows they read */
  modeled_read_bytes_per_token: number;
  /** the base weights' bytes on the GPU (the format `base`) */
  weight_bytes: number;
  /** weight bytes / batch: a memory-bound decode step reads every weight once, shared by the batch's rows */
  floor_bytes_per_token: number;
  /** modeled_read_bytes_per_token / floor_bytes_per_token (1 = reads nothing beyond the weights) */
  read_over_floor: number;
  /** one decode step's kernels: dispatches and bound bytes per step (summed over the step's dispatches) */
  kernels: { kernel: string; dispatches: number; read_bytes: number; read_write_bytes: number }[];
}

export const DECODE_COST_NOTE = 'Counted on a dry runtime (no GPU work; a hardware-like adapter without subgroups or shader-f16): ' +
  'one decode step = (generate with 1+N new tokens - generate with 1) / N, the caches ending at `positions`, one never-sampled stop id. ' +
  'bound_* bytes are binding sizes (upper bounds: a kernel may read part of a binding); modeled_read_bytes counts read-only bindings, ' +
  'with the embedding gather reading B rows of its table instead of the table, and each layer reading its KV caches once (the three ' +
  'passes of attention_decode, scores, softmax and weighted sum, each bind both caches: bound bytes count them three times); ' +
  'read_write bindings (activations, KV caches being written) are listed apart. floor = weight bytes / batch: what a memory-bound decode must read per token.';

/** Public configs (GUIDE.md "Shapes"), as parseHfConfig reads them. */
export const DECODE_COST_MODELS: { name: string; json: Record<string, unknown> }[] = [
  { name: 'SmolLM2-135M', json: { model_type: 'llama', architectures: ['LlamaForCausalLM'], hidden_size: 576, intermediate_size: 1536, num_hidden_layers: 30, num_attention_heads: 9, num_key_value_heads: 3, vocab_size: 49152, rms_norm_eps: 1e-5, rope_theta: 100000, max_position_embeddings: 8192, tie_word_embeddings: true, bos_token_id: 1, eos_token_id: 2, torch_dtype: 'bfloat16' } },
  { name: 'Qwen3-0.6B', json: { model_type: 'qwen3', architectures: ['Qwen3ForCausalLM'], vocab_size: 151936, hidden_size: 1024, intermediate_size: 3072, num_hidden_layers: 28, num_attention_heads: 16, num_key_value_heads: 8, head_dim: 128, hidden_act: 'silu', max_position_embeddings: 40960, rms_norm_eps: 1e-6, rope_theta: 1000000, tie_word_embeddings: true, bos_token_id: 151643, eos_token_id: 151645, torch_dtype: 'bfloat16' } },
];

function counters(gpu: GpuRuntime) {
  return { d: gpu.dispatchCount, s: gpu.submitCount, r: gpu.readbackCount, br: gpu.boundReadBytes, brw: gpu.boundReadWriteBytes };
}

/** Bytes of a kernel's read-only bindings it does not read: the embedding gather's table beyond its B rows, and
 * the KV caches bound by every pass of attention_decode (scores, softmax, weighted sum) where each layer reads
 * its caches once (every layer's caches the same size, as in the models counted here). */
function unreadBytes(k: KernelCost, dispatches: number, batch: number, config: ModelConfig): number {
  if (k.kernel.startsWith('attention_decode')) {
    const caches = k.buffers.filter((b) => b.access === 'read' && b.label.endsWith('_cache')).reduce((a, b) => a + b.bytes, 0);
    return Math.max(0, dispatches - config.numLayers) * caches;
  }
  if (!k.kernel.startsWith('embedding') || !k.kernel.includes('forward')) return 0;
  const table = k.buffers.filter((b) => b.access === 'read').reduce((a, b) => Math.max(a, b.bytes), 0);
  const bytesPerValue = table / (config.vocabSize * config.hiddenSize); // 4 (f32), 2 (16-bit) or a block format's
  return dispatches * Math.max(0, table - batch * config.hiddenSize * bytesPerValue);
}

/** One model at one batch size: the costs of one decode step with the KV caches at `positions`. */
export async function decodeCost(name: string, config: ModelConfig, batch: number, opts: { positions?: number; steps?: number; storage?: BaseStorageOptions; adapter?: Partial<AdapterSummary> } = {}): Promise<DecodeCostRow> {
  const positions = opts.positions ?? 256;
  const N = opts.steps ?? 16;
  const storage = opts.storage ?? { basePrecision: 'auto', fileDtype: 'bf16' };
  const gpu = createDryRuntime(undefined, opts.adapter);
  const model = GpuTransformer.allocateForPlan(gpu, config, storage);
  const promptLen = positions - N; // the last counted step's input sits at positions - 1
  const prompts = Array.from({ length: batch }, () => Array.from({ length: promptLen }, (_, j) => 1 + (j % (config.vocabSize - 1))));
  const neverSampled = config.vocabSize - 1; // the dry runtime's readbacks are zeros: token 0 is always sampled
  const run = (n: number) => generate(model, prompts, { maxNewTokens: n, temperature: 1, topK: 0, topP: 1, seed: 1, stopIds: [neverSampled], lora: null });
  try {
    const a0 = counters(gpu);
    await run(1);
    const a1 = counters(gpu);
    gpu.startCostLog();
    const gen = await run(1 + N);
    const log = gpu.stopCostLog();
    const b1 = counters(gpu);
    if (gen.steps !== 1 + N) throw new Error(`decode_costs: ${name} generated ${gen.steps} steps, expected ${1 + N}`);
    // the log holds the 1-token run's kernels too: subtract a second log of it
    gpu.startCostLog();
    await run(1);
    const base = new Map(gpu.stopCostLog().map((k) => [k.kernel, k]));
    const delta = (k: keyof typeof a0) => ((b1[k] - a1[k]) - (a1[k] - a0[k])) / N;
    const kernels = log.map((k) => {
      const b = base.get(k.kernel);
      const dispatches = (k.dispatches - (b?.dispatches ?? 0)) / N; // per decode step
      return {
        kernel: k.kernel,
        dispatches,
        read_bytes: (k.readBytes - (b?.readBytes ?? 0)) / N,
        read_write_bytes: (k.readWriteBytes - (b?.readWriteBytes ?? 0)) / N,
        unread: unreadBytes(k, dispatches, batch, config),
      };
    }).filter((k) => k.dispatches > 0);
    const format = resolveBasePrecision(config, storage);
    const weightBytes = baseWeightBytes(config, format);
    const boundRead = delta('br');
    const modeled = boundRead - kernels.reduce((a, k) => a + k.unread, 0);
    return {
      model: name,
      base: format,
      batch,
      positions,
      decode_steps_counted: N,
      dispatches_per_step: delta('d'),
      submits_per_step: delta('s'),
      readbacks_per_step: delta('r'),
      bound_read_bytes_per_token: boundRead / batch,
      bound_read_write_bytes_per_token: delta('brw') / batch,
      modeled_read_bytes_per_token: modeled / batch,
      weight_bytes: weightBytes,
      floor_bytes_per_token: weightBytes / batch,
      read_over_floor: modeled / weightBytes,
      kernels: kernels.map(({ unread: _u, ...k }) => k),
    };
  } finally {
    model.release();
    gpu.destroy();
  }
}

/** Every model of DECODE_COST_MODELS at batch 1 and 32 (seconds on the host; no GPU). */
export async function benchDecodeCosts(log: (s: string) => void = () => {}): Promise<{ explanation: string; rows: DecodeCostRow[] }> {
  const rows: DecodeCostRow[] = [];
  for (const m of DECODE_COST_MODELS) {
    const config = parseHfConfig(m.json, `${m.name} config`);
    for (const batch of [1, 32]) {
      const r = await decodeCost(m.name, config, batch);
      rows.push(r);
      const mb = (b: number) => `${(b / 2 ** 20).toFixed(1)} MiB`;
      log(`decode_costs ${m.name} B=${batch} (${r.base}, ${r.positions} positions): ${r.dispatches_per_step} dispatches, ${r.readbacks_per_step} readbacks / step; ` +
        `read ${mb(r.modeled_read_bytes_per_token)} / token (bound ${mb(r.bound_read_bytes_per_token)} + rw ${mb(r.bound_read_write_bytes_per_token)}), floor ${mb(r.floor_bytes_per_token)} (${r.read_over_floor.toFixed(2)}x)`);
    }
  }
  return { explanation: DECODE_COST_NOTE, rows };
}
