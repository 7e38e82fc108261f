// A tiny Qwen3.5 on the GPU with a random LoRA on every attention, MLP and linear-attention module: the model the
// decode tests (shared_prefix, shared_kv_decode, compact_rows) run their Qwen3.5 cases on.
import type { GpuRuntime } from '../../src/gpu/runtime';
import { GpuTransformer } from '../../src/model/transformer';
import { LoraSet } from '../../src/model/lora';
import { LINEAR_ATTN_MODULES } from '../../src/model/weights_qwen35';
import { Rng } from '../../src/util/random';
import { ALL_MODULES, randomizeLora } from './tiny';
import { qwen35TinyConfig, qwen35Weights } from './qwen35_fixtures';

export function tinyQwen35WithLora(gpu: GpuRuntime): { model: GpuTransformer; lora: LoraSet; release(): void } {
  const c = qwen35TinyConfig({ linear_key_head_dim: 8, vocab_size: 29 });
  const model = GpuTransformer.upload(gpu, c, qwen35Weights(c, 51, 0.5));
  const lora = new LoraSet(gpu, c, { r: 2, alpha: 4, targetModules: [...ALL_MODULES, ...LINEAR_ATTN_MODULES], useRslora: false });
  randomizeLora(gpu, lora, new Rng(52));
  return {
    model,
    lora,
    release() {
      lora.release();
      model.release();
    },
  };
}
