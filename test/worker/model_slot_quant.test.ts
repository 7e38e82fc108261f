// The worker's model slot uploads the base again when a run's base_precision changes how it is quantised:
// nf4 (block type NF4) and nf4_dq (NF4_DQ: the same codes, the absmax double-quantised) differ, so one after the other re-uploads.
import { readFileSync } from 'node:fs';
import type { GpuTransformer } from '../../src/model/transformer';
import { expect, test } from 'vitest';
import { ModelSlot } from '../../src/worker/model_slot';
import { testGpu } from '../gpu';
import { STORIES_BIN, STORIES_TOK, memFile } from '../model/tiny';

test('useBasePrecision: nf4 -> nf4_dq uploads again, the same setting twice does not', async () => {
  const gpu = await testGpu();
  const slot = new ModelSlot(async () => gpu);
  await slot.load([memFile('stories260K.bin', readFileSync(STORIES_BIN)), memFile('tokenizer.bin', readFileSync(STORIES_TOK))], () => {});
  const nf4 = slot.useBasePrecision('nf4');
  expect([...new Set((nf4.model as GpuTransformer).quant.values())]).toEqual(['NF4']);
  const wordsOf = async (m: typeof nf4) => new Uint32Array((await gpu.read((m.model as GpuTransformer).w('model.layers.0.self_attn.q_proj.weight'))).buffer);
  const plain = await wordsOf(nf4);
  const dq = slot.useBasePrecision('nf4_dq');
  expect(dq.model).not.toBe(nf4.model);
  expect(dq.storage.basePrecision).toBe('nf4_dq');
  expect([...new Set((dq.model as GpuTransformer).quant.values())]).toEqual(['NF4_DQ']);
  const dqWords = await wordsOf(dq);
  expect(dqWords.length).toBe((plain.length / 9) * 8 + 64 / 4 + 1 + 1); // 64 blocks: codes, absmax codes, absmax2, offset
  expect(Array.from(dqWords.subarray(0, 8))).toEqual(Array.from(plain.subarray(1, 9))); // the first block's codes, NF4's
  expect(slot.useBasePrecision('nf4_dq').model).toBe(dq.model);
  slot.require().model.release();
}, 120_000);
