// Parquet files are read where they can be stopped: in a worker (Node: a worker_threads eval worker; the
// page: a module Web Worker) that is terminated when it runs past a time limit, so a damaged or crafted
// file ends in a message instead of a hung tab or command. One worker per file; its start-up (tens of ms)
// is small beside reading a real split.

import { readParquetBuffer, type ParquetReply } from './parquet_read';
import { isNodeProcess, startNodeEvalWorker } from '../util/node_eval_worker';

/** Default time limit for reading one parquet file. */
export const PARQUET_TIME_LIMIT_MS = 120_000;

interface Job {
  promise: Promise<ParquetReply>;
  stop(): void;
}

async function startNode(buffer: ArrayBuffer): Promise<Job> {
  const body = `import(workerData.libs.hyparquet).then((h) => (${readParquetBuffer.toString()})(h, workerData.buffer)).then(
  (reply) => parentPort.postMessage(reply),
  (e) => parentPort.postMessage({ ok: false, stage: 'footer', message: String(e && e.message || e) }),
);`;
  const worker = await startNodeEvalWorker<ParquetReply>(['hyparquet'], body, { buffer });
  const promise = new Promise<ParquetReply>((resolve, reject) => {
    worker.on('message', resolve);
    worker.on('error', reject);
    worker.on('exit', (code) => reject(new Error(`the parquet worker exited with code ${code}`)));
  });
  return { promise, stop: () => void worker.terminate() };
}

function startBrowser(buffer: ArrayBuffer): Job {
  const worker = new Worker(new URL('./parquet.worker.ts', import.meta.url), { type: 'module', name: 'parquet' });
  const promise = new Promise<ParquetReply>((resolve, reject) => {
    worker.addEventListener('message', (ev: MessageEvent<ParquetReply>) => resolve(ev.data));
    worker.addEventListener('error', (ev: ErrorEvent) => {
      ev.preventDefault();
      reject(new Error(ev.message || 'the parquet worker could not be started'));
    });
  });
  worker.postMessage(buffer);
  return { promise, stop: () => worker.terminate() };
}

/** Reads one parquet file's footer and rows in a worker; null when it ran past `timeLimitMs` (the worker is
 * terminated). The buffer is copied to the worker, the caller's stays usable. */
export async function readParquetGuarded(buffer: ArrayBuffer, timeLimitMs = PARQUET_TIME_LIMIT_MS): Promise<ParquetReply | null> {
  const job = isNodeProcess() ? await startNode(buffer) : startBrowser(buffer);
  job.promise.catch(() => undefined); // a worker terminated at the time limit rejects later: nobody waits
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), timeLimitMs)));
  try {
    return await Promise.race([job.promise, timeout]);
  } finally {
    clearTimeout(timer);
    job.stop();
  }
}
