// What `generate` and `logprobs` need of a loaded model, one interface with two implementations chosen here: the
// Llama-family engine (GpuTransformer: generate.ts, logprobs.ts) and the Gemma 4 model (Gemma4Gpu:
// gemma4_generate.ts, gemma4_logprobs.ts), each with its adapter folder read as PEFT lays it out for it.
import type { GpuRuntime } from '../gpu/runtime';
import type { LoadedModel } from '../model/load';
import { GpuTransformer } from '../model/transformer';
import { generate, type GenerateOptions, type Generation } from '../model/generate';
import { completionLogprobs, type SequenceRow, type TokenLogprobs } from '../model/logprobs';
import { Gemma4Gpu, type Gemma4GpuLora } from '../model/gemma4_gpu';
import { generateGemma4 } from '../model/gemma4_generate';
import { gemma4CompletionLogprobs } from '../model/gemma4_logprobs';
import { gemma4LoraScale, parseGemma4PeftAdapter } from '../model/gemma4_peft';
import { loadAdapterDir, readAdapterFiles } from './adapter_dir';

export interface ModelRunner {
  generate(prompts: number[][], opts: Omit<GenerateOptions, 'lora'>): Promise<Generation>;
  logprobs(rows: SequenceRow[], temperature: number): Promise<TokenLogprobs>;
}

/** The loaded model on the GPU (base stored as the checkpoint's dtype allows) with the adapter folder's LoRA, if any. */
export async function openModelRunner(gpu: GpuRuntime, loaded: LoadedModel, adapterDir?: string): Promise<ModelRunner> {
  const c = loaded.config;
  if (c.gemma4) {
    const model = Gemma4Gpu.upload(gpu, c, loaded.weights, { fileDtype: loaded.dtype });
    let lora: Gemma4GpuLora | null = null;
    if (adapterDir) {
      const { spec, factors } = parseGemma4PeftAdapter(await readAdapterFiles(adapterDir), c);
      lora = new Map();
      for (const [path, f] of factors) {
        const A = gpu.upload(f.A, [spec.r, f.A.length / spec.r], `${path}.lora_A`);
        const B = gpu.upload(f.B, [f.B.length / spec.r, spec.r], `${path}.lora_B`);
        lora.set(path, { A, B, r: spec.r, scale: gemma4LoraScale(spec) });
      }
    }
    return {
      generate: (prompts, opts) => generateGemma4(model, prompts, { ...opts, lora }),
      logprobs: (rows, temperature) => gemma4CompletionLogprobs(model, rows, lora, temperature),
    };
  }
  const model = GpuTransformer.upload(gpu, c, loaded.weights, { fileDtype: loaded.dtype });
  const lora = adapterDir ? await loadAdapterDir(gpu, adapterDir, c) : null;
  return {
    generate: (prompts, opts) => generate(model, prompts, { ...opts, lora }),
    logprobs: (rows, temperature) => completionLogprobs(model, rows, lora, temperature),
  };
}
