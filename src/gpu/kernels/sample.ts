// Host wrapper for sample.wgsl: one token per row of logits (greedy, or temperature + top-k + top-p with a
// seeded Philox draw), without a readback.
import code from '../../../shaders/sample.wgsl?raw';
import { grid, type GpuRuntime } from '../runtime';
import { defineKernel } from '../kernel';
import { expectShape, type Tensor } from '../tensor';
import { rowCounter, rowWord, sampleParams, type SampleOptions } from '../../ops/sample';

export { sampleParams, type SampleOptions } from '../../ops/sample';

export const SAMPLE = defineKernel({
  name: 'sample',
  source: code,
  params: {
    B: 'u32', V: 'u32', greedy: 'u32', invTemp: 'f32', topK: 'u32', topP: 'f32', usePTop: 'u32',
    seedLo: 'u32', seedHi: 'u32', ctrLo: 'u32', ctrHi: 'u32', rowCtr: 'u32',
  },
  buffers: { logits: 'read', ids: 'read_write' },
});

/** Invocations per row: about 8 logits each, a power of two in [16, 256] (sample.wgsl's two-level
 * reductions need 16). Small rows get small workgroups: every pass ends in workgroup barriers, and on
 * software adapters a barrier costs in proportion to the workgroup size. */
export function sampleWorkgroupSize(V: number): number {
  let wg = 16;
  while (wg < 256 && wg * 8 < V) wg *= 2;
  return wg;
}

/** ids[b] = one token drawn from row b of logits (B, V); ids: (B) u32. Records one dispatch (and with
 * opts.rowCounters or opts.rowIndex, a write of the per-row values into ids, which the kernel reads before it
 * overwrites them; `preset`, a u32 tensor already holding those values, is copied into ids instead, which
 * records a copy rather than a queue write and its flush). With both rowIndex and rowCounters, ids has 2B entries
 * (the row words, then the counter offsets; the draws land in the first B) and so has `preset`. */
export function sample(gpu: GpuRuntime, ids: Tensor, logits: Tensor, opts: SampleOptions, preset?: Tensor): void {
  if (logits.shape.length !== 2) throw new Error(`sample logits (${logits.label}): expected shape [B, V], got [${logits.shape.join(', ')}]`);
  const [B, V] = logits.shape;
  if (logits.dtype !== 'f32') throw new Error(`sample logits (${logits.label}): expected f32, got ${logits.dtype}`);
  if (V < 1 || V >= 2 ** 24) throw new Error(`sample logits (${logits.label}): V must be in [1, 2^24), got ${V}`);
  const both = !!opts.rowCounters && !!opts.rowIndex;
  expectShape(ids, [both ? 2 * B : B], `sample ids (${ids.label})`);
  if (ids.dtype !== 'u32') throw new Error(`sample ids (${ids.label}): expected u32, got ${ids.dtype}`);
  const sp = sampleParams(opts);
  const topK = opts.topK > 0 && opts.topK < V ? opts.topK : 0;
  if (opts.rowCounters && opts.rowCounters.length !== B) throw new Error(`sample: rowCounters has ${opts.rowCounters.length} entries for ${B} rows`);
  if (opts.rowIndex && opts.rowIndex.length !== B) throw new Error(`sample: rowIndex has ${opts.rowIndex.length} entries for ${B} rows`);
  for (let b = 0; b < B && (opts.rowCounters || opts.rowIndex); b++) {
    rowCounter(opts, b); // validates each offset
    rowWord(opts, b); // and each word
  }
  if (opts.rowCounters || opts.rowIndex) {
    if (preset) gpu.copy(preset, ids, both ? 2 * B : B);
    else gpu.write(ids, both ? Uint32Array.from([...Array.from(opts.rowIndex!), ...Array.from(opts.rowCounters!)]) : Uint32Array.from((opts.rowCounters ?? opts.rowIndex)!));
  }
  gpu.run(
    SAMPLE,
    { logits, ids },
    {
      B,
      V,
      greedy: sp.greedy ? 1 : 0,
      invTemp: sp.invTemp,
      topK,
      topP: sp.topP,
      usePTop: sp.usePTop ? 1 : 0,
      seedLo: sp.seed[0],
      seedHi: sp.seed[1],
      ctrLo: sp.counter[0],
      ctrHi: sp.counter[1],
      rowCtr: both ? 3 : opts.rowCounters ? 1 : opts.rowIndex ? 2 : 0,
    },
    grid(B),
    { WG: sampleWorkgroupSize(V) },
  );
}
