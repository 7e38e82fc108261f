// Gemma 4 through the supervised trainer (src/grpo/sft.ts SftTrainer, AdamW) on the Gemma 4 GPU model
// (Gemma4Trainable: the chunked LM head with the soft-cap inside the chunks, a LoraSet built per Gemma 4 layer):
// two LoRA steps on one batch lower its loss, the adapter is exported in Gemma 4's PEFT layout, and the CPU
// reference with the adapter read back gives the trained GPU model's log-probs. Full-weight training and LoRA
// dropout are refused with the reason.
import { describe, expect, test } from 'vitest';
import { Gemma4Gpu } from '../../src/model/gemma4_gpu';
import { exportGemma4Adapter, gemma4LoraViews, Gemma4Trainable } from '../../src/model/gemma4_trainable';
import { gemma4CompletionLogprobs } from '../../src/model/gemma4_logprobs';
import { gemma4LoraScale, parseGemma4PeftAdapter } from '../../src/model/gemma4_peft';
import { LoraSet, LORA_MODULES } from '../../src/model/lora';
import { SftTrainer, type SftOptions } from '../../src/grpo/sft';
import { transformerForward, type LoraMap } from '../../src/reference/transformer';
import { testGpu } from '../gpu';
import { gemma4TinyConfig, gemma4Weights } from '../model/gemma4_fixtures';
import { expectClose, randomTokens } from '../model/tiny';

const OPTS: SftOptions = {
  mode: 'lora', learningRate: 3e-2, scheduler: 'constant', warmupRatio: 0, maxSteps: 2, batchSize: 3, seed: 1,
  beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, maxGradNorm: 1,
};

describe('gemma4 LoRA SFT through the trainer', () => {
  test('two steps lower the loss; the exported adapter gives the reference the GPU log-probs', async () => {
    const c = gemma4TinyConfig({ vocab_size: 200, vocab_size_per_layer_input: 200 });
    const V = c.vocabSize;
    const w = gemma4Weights(c, 81, 0.4);
    const gpu = await testGpu();
    const model = new Gemma4Trainable(Gemma4Gpu.upload(gpu, c, w));
    model.lmHeadChunkBytes = 16 * 64 * 4; // chunks of 64 columns for up to 16 rows
    const lora = new LoraSet(gpu, c, { r: 4, alpha: 8, targetModules: [...LORA_MODULES], useRslora: false });
    lora.initialize(82);
    expect(lora.pairs.has('model.layers.4.self_attn.k_proj')).toBe(false); // shared layer: no k/v
    expect(lora.pairs.get('model.layers.2.self_attn.q_proj')!.outFeatures).toBe(2 * 16); // full layer: global_head_dim
    const toks = randomTokens(3 * 5, V, 83);
    const examples = [0, 1, 2].map((i) => ({ prompt: toks.slice(i * 5, i * 5 + 2), answer: toks.slice(i * 5 + 2, i * 5 + 5) }));
    const sft = new SftTrainer(gpu, model, examples, OPTS, lora);
    const r1 = await sft.trainStep();
    const r2 = await sft.trainStep();
    console.log(`gemma4 SFT through the trainer: loss ${r1.loss.toFixed(4)} -> ${r2.loss.toFixed(4)}`);
    expect(Number.isFinite(r1.loss) && r1.grad_norm > 0).toBe(true);
    expect(r2.loss).toBeLessThan(r1.loss);

    const files = await exportGemma4Adapter(gpu, lora, 'tiny-gemma4');
    const parsed = parseGemma4PeftAdapter(files, c);
    const ref: LoraMap = new Map([...parsed.factors].map(([p, f]) => [p, { ...f, r: parsed.spec.r, scale: gemma4LoraScale(parsed.spec) }]));
    const rows = examples.map((e) => ({ prompt: e.prompt, completion: e.answer }));
    const got = await gemma4CompletionLogprobs(model.model, rows, gemma4LoraViews(lora).lora);
    rows.forEach((r, b) => {
      const seq = [...r.prompt, ...r.completion];
      const logits = transformerForward(c, w, seq, 1, seq.length, ref).logits;
      const want = r.completion.map((tok, j) => {
        const t = r.prompt.length + j - 1;
        let m = -Infinity;
        for (let v = 0; v < V; v++) m = Math.max(m, logits[t * V + v]);
        let s = 0;
        for (let v = 0; v < V; v++) s += Math.exp(logits[t * V + v] - m);
        return logits[t * V + tok] - m - Math.log(s);
      });
      expectClose(`row ${b} log-probs`, got.logprobs[b], want, 1e-4, 1e-4);
    });
    expect(() => new SftTrainer(gpu, model, examples, { ...OPTS, mode: 'full' }, null)).toThrow(/full-weight training is not supported/);
    const dropped = new LoraSet(gpu, c, { r: 2, alpha: 2, targetModules: ['q_proj'], useRslora: false, dropout: 0.1 });
    const t = new SftTrainer(gpu, model, examples, OPTS, dropped);
    await expect(t.trainStep()).rejects.toThrow(/LoRA dropout is not supported/);
    sft.release();
    lora.release();
    model.model.destroy();
  }, 180_000);
});
