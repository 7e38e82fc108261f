import { describe, expect, it } from 'vitest';
import { DatasetError, parseDataset, parseDatasetStream } from '../../src/data';

const enc = new TextEncoder();

/** bytes cut at the given sizes in turn (cycling), as an async stream. */
async function* chunked(bytes: Uint8Array, sizes: number[]): AsyncIterable<Uint8Array> {
  let at = 0;
  for (let k = 0; at < bytes.length; k++) {
    const n = sizes[k % sizes.length];
    yield bytes.slice(at, at + n);
    at += n;
  }
}

function jsonlText(n: number): string {
  const lines: string[] = [];
  for (let i = 0; i < n; i++) {
    if (i % 97 === 5) lines.push('');
    else if (i % 89 === 3) lines.push('{"question": "broken", ');
    else lines.push(JSON.stringify({ question: `Q${i}: combien font ${i} × 2 ? « é »`, answer: String(i * 2), i }));
  }
  return lines.join('\r\n') + '\r\n';
}

function csvText(n: number): string {
  const lines = ['question,answer,note'];
  for (let i = 0; i < n; i++) {
    if (i % 50 === 7) lines.push(`"multi\r\nline ""${i}"", with comma",${i},ü`);
    else if (i % 61 === 2) lines.push(`only,two,fields,${i}`);
    else lines.push(`q${i} ½,${i % 10 === 0 ? `"${i},000"` : i},n`);
  }
  return '\uFEFF' + lines.join('\r\n') + '\r\n';
}

describe('parseDatasetStream', () => {
  it('gives exactly what parseDataset gives, however the bytes are cut (JSONL and CSV)', async () => {
    for (const [name, text] of [
      ['s.jsonl', jsonlText(600)],
      ['s.csv', csvText(600)],
    ] as const) {
      const whole = parseDataset(text, name);
      expect(whole.counts.invalid, name).toBeGreaterThan(0);
      const bytes = enc.encode(text);
      for (const sizes of [[1, 2, 3, 5, 7, 11, 13], [4096], [65536], [bytes.length]]) {
        const streamed = await parseDatasetStream(chunked(bytes, sizes), name);
        expect(streamed, `${name} in pieces of ${sizes.join(',')}`).toEqual(whole);
      }
    }
  });

  it('a JSON array arrives in pieces and is parsed at the end', async () => {
    const text = JSON.stringify(
      Array.from({ length: 50 }, (_, i) => ({ prompt: `p${i} ✓`, answer: `${i}` })),
      null,
      2,
    );
    const streamed = await parseDatasetStream(chunked(enc.encode(text), [100]), 'a.json');
    expect(streamed).toEqual(parseDataset(text, 'a.json'));
    expect(streamed.rows[1].line).toBe(6);
  });

  it('reports progress in bytes and lets other work run while it parses', async () => {
    const bytes = enc.encode(jsonlText(20000));
    const progress: number[] = [];
    let ticks = 0;
    const timer = setInterval(() => ticks++, 0);
    const d = await parseDatasetStream(chunked(bytes, [16384]), 'big.jsonl', (b) => progress.push(b));
    clearInterval(timer);
    expect(d.counts.kept).toBeGreaterThan(19000);
    expect(progress[progress.length - 1]).toBe(bytes.length);
    expect(progress.every((b, i) => i === 0 || b > progress[i - 1])).toBe(true);
    expect(ticks).toBeGreaterThan(0);
  });

  it('rejects non-UTF-8 bytes with the offset and line, also when a character is split across chunks', async () => {
    const head = enc.encode('{"prompt": "a", "answer": "1"}\n{"prompt": "caf');
    const bytes = new Uint8Array([...head, 0xc3, 0x28, ...enc.encode('", "answer": "2"}\n')]);
    // 0xC3 starts a two-byte character but 0x28 "(" cannot continue it; cut between the two bytes
    const cut = head.length + 1;
    const stream = chunked(bytes, [cut, 1000]);
    await expect(parseDatasetStream(stream, 'x.jsonl')).rejects.toThrow(DatasetError);
    await expect(parseDatasetStream(chunked(bytes, [cut, 1000]), 'x.jsonl')).rejects.toThrow(
      new RegExp(`^x\\.jsonl: the file is not valid UTF-8: byte 0xC3 at byte offset ${head.length} \\(line 2\\)`),
    );
    // a valid character split across chunks is fine
    const ok = enc.encode('prompt,answer\nnaïve,é\n');
    const d = await parseDatasetStream(chunked(ok, [16, 1, 1, 100]), 'ok.csv');
    expect(d.rows[0]).toMatchObject({ prompt: 'naïve', answer: 'é' });
  });

  it('rejects an empty stream', async () => {
    await expect(parseDatasetStream(chunked(new Uint8Array(0), [1]), 'e.csv')).rejects.toThrow('e.csv is empty (0 bytes)');
  });
});
