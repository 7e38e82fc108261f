// The engine worker's streamed dataset load (dataset_slot.ts) (a picked File read in chunks): the same summary as parsing the
// bytes at once, progress that climbs to the file's size, the bytes kept for checkpoints, and the same
// errors for an empty or non-UTF-8 file. No GPU needed.
import { describe, expect, it } from 'vitest';
import { DatasetSlot } from '../../src/worker/dataset_slot';
import type { DatasetLoadProgress } from '../../src/worker/protocol';

function jsonl(n: number): Uint8Array<ArrayBuffer> {
  const lines: string[] = [];
  for (let i = 0; i < n; i++) lines.push(i % 500 === 7 ? '{"prompt": "cut' : JSON.stringify({ prompt: `p${i} ${'x'.repeat(40)} « é »`, answer: String(i) }));
  return new TextEncoder().encode(lines.join('\n') + '\n');
}

describe('DatasetSlot.loadStreamed', () => {
  it('gives the summary loadDataset gives, with progress up to the whole file, and keeps the bytes', async () => {
    const bytes = jsonl(40_000); // about 2.6 MB: many chunks
    const whole = new DatasetSlot().load('d.jsonl', bytes);
    const s = new DatasetSlot();
    const progress: DatasetLoadProgress[] = [];
    const streamed = await s.loadStreamed('d.jsonl', new Blob([bytes]), undefined, (p) => progress.push(p));
    expect(streamed).toEqual(whole);
    expect(streamed.counts.kept).toBe(40_000 - 80);
    expect(streamed.counts.invalid).toBe(80);
    expect(progress[0]).toEqual({ bytes: 0, total: bytes.length });
    expect(progress[progress.length - 1]).toEqual({ bytes: bytes.length, total: bytes.length });
    for (let i = 1; i < progress.length; i++) expect(progress[i].bytes).toBeGreaterThanOrEqual(progress[i - 1].bytes);
    // the bytes are kept (for checkpoints and a re-mapping), identical to the file's
    const kept = s.require().bytes;
    expect(kept.length).toBe(bytes.length);
    expect(Buffer.from(kept).equals(Buffer.from(bytes))).toBe(true);
  });

  it('a column mapping applies, and bad files fail with the same messages as a whole-file parse', async () => {
    const s = new DatasetSlot();
    const csv = new TextEncoder().encode('a,b,c\n1,2,3\n4,5,6\n');
    const mapped = await s.loadStreamed('t.csv', new Blob([csv]), { prompt: 'b', answer: 'c' });
    expect(mapped.mapping).toEqual({ prompt: 'b', answer: 'c' });
    expect(mapped.preview.map((r) => [r.prompt, r.answer])).toEqual([['2', '3'], ['5', '6']]);
    await expect(s.loadStreamed('e.jsonl', new Blob([]), undefined)).rejects.toThrow('e.jsonl is empty (0 bytes)');
    const latin1: Uint8Array<ArrayBuffer> = new Uint8Array([...new TextEncoder().encode('{"prompt": "caf'), 0xe9, ...new TextEncoder().encode('", "answer": "x"}\n')]);
    const whole = (() => {
      try {
        new DatasetSlot().load('l.jsonl', latin1);
      } catch (e) {
        return (e as Error).message;
      }
      return null;
    })();
    expect(whole).toMatch(/not UTF-8|UTF-8/);
    await expect(s.loadStreamed('l.jsonl', new Blob([latin1]), undefined)).rejects.toThrow(whole!);
  });
});
