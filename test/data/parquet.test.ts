// Parquet datasets read with hyparquet: through the streamed parser (by name and by the PAR1 marker),
// several files as one .zip, the column mapping, row numbers in issues, values a preview can show, and
// damaged files.
import { describe, expect, it } from 'vitest';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { bundleParquetFiles, parseDatasetStream, parseParquetData } from '../../src/data';

function parquet(columns: { name: string; data: unknown[] | Int32Array | BigInt64Array; type: string }[]): Uint8Array {
  return new Uint8Array(parquetWriteBuffer({ columnData: columns as Parameters<typeof parquetWriteBuffer>[0]['columnData'] }));
}

async function* chunked(bytes: Uint8Array, size = 100): AsyncIterable<Uint8Array> {
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

const rows = parquet([
  { name: 'problem', data: ['1+1', '2+2', '', '3+3'], type: 'STRING' },
  { name: 'solution', data: ['2', '4', '0', '6'], type: 'STRING' },
  { name: 'big', data: BigInt64Array.from([1n, 2n, 3n, 2n ** 60n]), type: 'INT64' },
]);

describe('parquet datasets', () => {
  it('streams by name or by the PAR1 marker; rows, mapping, row numbers, previewable values', async () => {
    let seen = 0;
    const byName = await parseDatasetStream(chunked(rows), 'math.parquet', (b) => (seen = b));
    expect(seen).toBe(rows.length);
    const byMagic = await parseDatasetStream(chunked(rows), 'download.bin');
    for (const ds of [byName, byMagic]) {
      expect(ds.format).toBe('parquet');
      expect(ds.mapping).toEqual({ prompt: 'problem', answer: 'solution' });
      expect(ds.rows.map((r) => r.prompt)).toEqual(['1+1', '2+2', '3+3']);
      expect(ds.rows.map((r) => r.line)).toEqual([1, 2, 4]);
      expect(ds.issues).toEqual([{ line: 3, field: 'problem', message: 'the prompt field "problem" is empty' }]);
      expect(ds.rows[0].raw.big).toBe(1); // bigint -> number
      expect(ds.rows[2].raw.big).toBe(String(2n ** 60n)); // too big for a number: text
    }
    const mapped = await parseParquetData(rows, 'math.parquet', { mapping: { prompt: 'solution', answer: 'problem' } });
    expect(mapped.rows[0]).toMatchObject({ prompt: '2', answer: '1+1' });
    await expect(parseParquetData(rows, 'math.parquet', { mapping: { prompt: 'question' } })).rejects.toThrow(
      'the prompt column "question" is not in the file; the columns are "problem", "solution", "big"',
    );
  });

  it('reads several files of one split from a .zip, in order, with row numbers running on', async () => {
    const a = parquet([{ name: 'prompt', data: ['a', 'b'], type: 'STRING' }, { name: 'answer', data: ['x', 'y'], type: 'STRING' }]);
    const b = parquet([{ name: 'prompt', data: ['c'], type: 'STRING' }, { name: 'answer', data: [''], type: 'STRING' }]);
    const ds = await parseDatasetStream(chunked(bundleParquetFiles([{ name: 'train/0000.parquet', bytes: a }, { name: 'train/0001.parquet', bytes: b }])), 'ds-default-train.parquet.zip');
    expect(ds.rows.map((r) => r.prompt)).toEqual(['a', 'b']);
    expect(ds.issues).toEqual([{ line: 3, field: 'answer', message: 'the answer field "answer" is empty' }]);
    const other = parquet([{ name: 'prompt', data: ['c'], type: 'STRING' }, { name: 'other', data: ['z'], type: 'STRING' }]);
    await expect(parseParquetData(bundleParquetFiles([{ name: 'a.parquet', bytes: a }, { name: 'b.parquet', bytes: other }]), 'x.parquet.zip')).rejects.toThrow(
      'x.parquet.zip/b.parquet has columns prompt, other, unlike the split\'s first file (prompt, answer)',
    );
  });

  it('damaged files: truncated, cut footer, not parquet, no text columns', async () => {
    await expect(parseParquetData(rows.subarray(0, rows.length - 10), 'cut.parquet')).rejects.toThrow(/^cut\.parquet is truncated or damaged/);
    const badFooter = rows.slice();
    badFooter.set([0xff, 0xff, 0xff, 0x7f], rows.length - 8); // footer length beyond the file
    await expect(parseParquetData(badFooter, 'footer.parquet')).rejects.toThrow(/^footer\.parquet: the parquet footer cannot be read/);
    await expect(parseParquetData(new TextEncoder().encode('{"a": 1}\n'), 'fake.parquet')).rejects.toThrow('fake.parquet is not a parquet file (it does not start with the PAR1 marker)');
    const numbers = parquet([{ name: 'n', data: Int32Array.from([1, 2]), type: 'INT32' }]);
    await expect(parseParquetData(numbers, 'n.parquet')).rejects.toThrow('n.parquet has no text (string) columns: its columns are "n" (INT32); a dataset needs a text prompt column');
  });
});
