// Big dataset files without freezing the page: bytes arrive in chunks (e.g. File.stream()), are checked
// as UTF-8 and decoded incrementally, and parsed piece by piece, yielding to the event loop between
// pieces. JSONL and CSV are parsed as they arrive; a JSON array is gathered and parsed at the end.

import { DatasetParser } from './parse';
import { hasParquetMagic, isParquetBundleName, isParquetName, parseParquetData } from './parquet';
import { countNewlines, notUtf8Message, Utf8Validator } from './utf8';
import { DatasetError, type ParseOptions, type ParsedDataset } from './types';

/** Work this long (ms) between yields to the event loop. */
const SLICE_MS = 12;

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

export async function parseDatasetStream(
  chunks: AsyncIterable<Uint8Array>,
  fileName: string,
  onProgress?: (bytes: number) => void,
  opts: ParseOptions = {},
): Promise<ParsedDataset> {
  // parquet (by name, a .zip of parquet files, or by its PAR1 marker): gathered, then read at the end
  const iterator = chunks[Symbol.asyncIterator]();
  const first = await iterator.next();
  const rest: AsyncIterable<Uint8Array> = {
    async *[Symbol.asyncIterator]() {
      if (!first.done) yield first.value;
      for (;;) {
        const r = await iterator.next();
        if (r.done) return;
        yield r.value;
      }
    },
  };
  if (isParquetName(fileName) || isParquetBundleName(fileName) || (!first.done && hasParquetMagic(first.value))) {
    const parts: Uint8Array[] = [];
    let total = 0;
    for await (const c of rest) {
      parts.push(c);
      total += c.length;
      onProgress?.(total);
    }
    const bytes = new Uint8Array(total);
    let at = 0;
    for (const c of parts) {
      bytes.set(c, at);
      at += c.length;
    }
    if (total === 0) throw new DatasetError(`${fileName} is empty (0 bytes)`);
    return parseParquetData(bytes, fileName, opts);
  }
  chunks = rest;
  const parser = new DatasetParser(fileName, opts);
  const validator = new Utf8Validator();
  const decoder = new TextDecoder('utf-8');
  let bytes = 0;
  let lines = 0;
  let sliceStart = performance.now();
  for await (const chunk of chunks) {
    const bad = validator.push(chunk);
    if (bad >= 0) {
      const line = lines + countNewlines(chunk, 0, Math.max(0, bad - bytes)) + 1;
      throw new DatasetError(`${fileName}: ${notUtf8Message(bad, line, validator.badByte)}`);
    }
    lines += countNewlines(chunk);
    bytes += chunk.length;
    parser.push(decoder.decode(chunk, { stream: true }));
    onProgress?.(bytes);
    if (performance.now() - sliceStart > SLICE_MS) {
      await yieldToEventLoop();
      sliceStart = performance.now();
    }
  }
  if (bytes === 0) throw new DatasetError(`${fileName} is empty (0 bytes)`);
  const unfinished = validator.end();
  if (unfinished >= 0) throw new DatasetError(`${fileName}: ${notUtf8Message(unfinished, lines + 1, undefined)}`);
  parser.push(decoder.decode());
  return parser.finish();
}

/** The chunks of a browser File or Blob (its stream), for parseDatasetStream. */
export async function* blobChunks(blob: Blob): AsyncIterable<Uint8Array> {
  const reader = blob.stream().getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      yield value;
    }
  } finally {
    reader.releaseLock();
  }
}
