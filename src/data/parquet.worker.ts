// The page's parquet worker (Vite bundles it from this file): reads one file with hyparquet and posts the
// result; parquet_guard.ts terminates it when it takes longer than the time limit.
import * as hyparquet from 'hyparquet';
import { readParquetBuffer } from './parquet_read';

self.onmessage = async (ev: MessageEvent<ArrayBuffer>) => {
  self.postMessage(await readParquetBuffer(hyparquet, ev.data));
};
