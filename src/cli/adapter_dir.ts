// Reading and writing PEFT adapter folders from the command line.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { GpuRuntime } from '../gpu/runtime';
import type { ModelConfig } from '../model/config';
import { LoraSet, type LoraModule } from '../model/lora';
import { parseGemma4PeftAdapter } from '../model/gemma4_peft';
import { exportGgufLoraAdapter, ggufArchOf } from '../model/gguf/lora_export';
import { ADAPTER_CONFIG, ADAPTER_WEIGHTS, createLoraFromAdapter, exportPeftAdapter, parsePeftAdapter, type ParsedAdapter, type PeftAdapterFiles } from '../model/peft_adapter';

/** The adapter folder's two files, as they are. */
export async function readAdapterFiles(dir: string): Promise<PeftAdapterFiles> {
  const read = async (name: string) => {
    try {
      return await readFile(join(dir, name));
    } catch {
      throw new Error(`${join(dir, name)}: not found (an adapter folder holds ${ADAPTER_WEIGHTS} and ${ADAPTER_CONFIG})`);
    }
  };
  const weights = await read(ADAPTER_WEIGHTS);
  const config = (await read(ADAPTER_CONFIG)).toString('utf8');
  return { weights: new Uint8Array(weights.buffer, weights.byteOffset, weights.byteLength), config };
}

export async function readAdapterDir(dir: string, model: ModelConfig): Promise<ParsedAdapter> {
  return parsePeftAdapter(await readAdapterFiles(dir), model);
}

export async function loadAdapterDir(gpu: GpuRuntime, dir: string, model: ModelConfig): Promise<LoraSet> {
  if (model.gemma4) {
    // Gemma 4's PEFT layout (gemma4_peft.ts: its own key names, no k/v on shared layers) into a LoraSet of its shapes
    const { spec, factors } = parseGemma4PeftAdapter(await readAdapterFiles(dir), model);
    const lora = new LoraSet(gpu, model, { r: spec.r, alpha: spec.alpha, targetModules: spec.targetModules as LoraModule[], useRslora: spec.useRslora });
    for (const p of lora.pairs.values()) {
      const f = factors.get(p.path);
      if (!f) throw new Error(`${join(dir, ADAPTER_WEIGHTS)}: no factors for ${p.path}`);
      gpu.write(p.A, f.A);
      gpu.write(p.B, f.B);
    }
    return lora;
  }
  return createLoraFromAdapter(gpu, model, await readAdapterDir(dir, model));
}

export async function writeAdapterDir(gpu: GpuRuntime, dir: string, lora: LoraSet, baseModel: string, loraDropout: number): Promise<void> {
  await writeAdapterFiles(dir, await exportPeftAdapter(gpu, lora, baseModel, loraDropout));
  // the same adapter for llama.cpp / Ollama (llama-cli --lora adapter.gguf), for the families llama.cpp names
  let hasArch = true;
  try {
    ggufArchOf(lora.config);
  } catch {
    hasArch = false;
  }
  if (hasArch) await writeFile(join(dir, GGUF_ADAPTER), await exportGgufLoraAdapter(gpu, lora, baseModel));
}

/** Writes an adapter's two files into dir (created if missing). */
export async function writeAdapterFiles(dir: string, files: PeftAdapterFiles): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, ADAPTER_WEIGHTS), files.weights);
  await writeFile(join(dir, ADAPTER_CONFIG), files.config);
}

/** The GGUF LoRA adapter written beside the PEFT files. */
export const GGUF_ADAPTER = 'adapter.gguf';
