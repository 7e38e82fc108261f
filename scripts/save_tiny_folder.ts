// Writes a built-in model's Hugging Face folder (config.json, tokenizer.json, model.safetensors) from the
// weights on the GPU: shared by scripts/pretrain.ts and scripts/pretrain_calculator.ts.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { GpuRuntime } from '../src/gpu/runtime';
import type { GpuTransformer } from '../src/model/transformer';
import type { ModelConfig } from '../src/model/config';
import { expectedShapes } from '../src/model/weights';
import { writeSafetensors } from '../src/model/safetensors';

export async function saveTinyFolder(
  dir: string, gpu: GpuRuntime, model: GpuTransformer, config: ModelConfig, configJson: Record<string, unknown>, tokenizerJson: Record<string, unknown>,
): Promise<void> {
  const tensors = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const [name, shape] of expectedShapes(config)) tensors.set(name, { shape, data: await gpu.read(model.w(name)) });
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'config.json'), JSON.stringify(configJson, null, 2) + '\n');
  await writeFile(join(dir, 'tokenizer.json'), JSON.stringify(tokenizerJson, null, 2) + '\n');
  await writeFile(join(dir, 'model.safetensors'), writeSafetensors(tensors, { format: 'pt' }));
}
