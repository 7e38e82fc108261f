// A model's tokenizer and chat template are somebody else's code in all but name: a pre-tokenizer regex
// with catastrophic backtracking, or a template with `{% for i in range(100000000) %}`, would hang the
// page's engine or the command line the first time a prompt is encoded or formatted. Before a model is
// accepted, both are exercised once in a worker that is terminated at a time limit (Node: a worker_threads
// eval worker; the page: a module Web Worker): the tokenizer encodes strings made to trip backtracking, the
// template renders a small conversation. One that runs past the limit is refused with a message naming the
// file. This is a probe at load, not a limit on every later call: a template whose cost depends on the
// prompt's content can still be slow on a crafted prompt (docs/SECURITY.md).

import { runLoadProbe, type ProbeInput, type ProbeStage } from './load_probe_run';
import { isNodeProcess, startNodeEvalWorker } from '../util/node_eval_worker';

/** per stage (encoding the probe strings; rendering the template). Building the tokenizer in the worker is
 * not timed: the same construction has just finished on the caller's thread (createHfTokenizer), and a large
 * vocabulary takes seconds on a busy machine. */
export const LOAD_PROBE_TIME_LIMIT_MS = 10_000;

type Message = { stage?: ProbeStage; done?: true; error?: string };

interface Job {
  onMessage(f: (m: Message) => void): void;
  onFailure(f: (why: string) => void): void;
  stop(): void;
}

async function startNode(input: ProbeInput): Promise<Job> {
  const body = `Promise.all([import(workerData.libs['@huggingface/tokenizers']), import(workerData.libs['@huggingface/jinja'])])
  .then(([t, j]) => (${runLoadProbe.toString()})({ Tokenizer: t.Tokenizer || (t.default && t.default.Tokenizer), Template: j.Template || (j.default && j.default.Template) }, workerData.input, (stage) => parentPort.postMessage({ stage })))
  .then(() => parentPort.postMessage({ done: true }), (e) => parentPort.postMessage({ error: String((e && e.message) || e) }));`;
  const worker = await startNodeEvalWorker<Message>(['@huggingface/tokenizers', '@huggingface/jinja'], body, { input });
  let stopped = false;
  return {
    onMessage: (f) => worker.on('message', f),
    onFailure: (f) => {
      worker.on('error', (e) => f(e.message));
      worker.on('exit', (code) => {
        if (!stopped) f(`the probe worker exited with code ${code}`);
      });
    },
    stop: () => {
      stopped = true;
      void worker.terminate();
    },
  };
}

function startBrowser(input: ProbeInput): Job {
  const worker = new Worker(new URL('./load_probe.worker.ts', import.meta.url), { type: 'module', name: 'load-probe' });
  worker.postMessage(input);
  return {
    onMessage: (f) => worker.addEventListener('message', (ev: MessageEvent<Message>) => f(ev.data)),
    onFailure: (f) =>
      worker.addEventListener('error', (ev: ErrorEvent) => {
        ev.preventDefault();
        f(ev.message || 'the probe worker could not be started');
      }),
    stop: () => worker.terminate(),
  };
}

/** Resolves when the tokenizer and chat template ran their probe within the limit; otherwise throws a
 * message naming `files[stage]`. An error inside the probe (a tokenizer the library refuses) is left to the
 * normal load, which reports it with its own message. */
export async function probeTokenizerAndTemplate(
  input: ProbeInput,
  files: Record<ProbeStage, string>,
  timeLimitMs = LOAD_PROBE_TIME_LIMIT_MS,
): Promise<void> {
  const job = isNodeProcess() ? await startNode(input) : startBrowser(input);
  let stage: ProbeStage = 'tokenizer';
  try {
    const outcome = await new Promise<'done' | 'timeout' | 'failed'>((resolve) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      job.onMessage((m) => {
        if (m.stage) {
          // each stage gets the time limit afresh
          stage = m.stage;
          clearTimeout(timer);
          timer = setTimeout(() => resolve('timeout'), timeLimitMs);
        }
        if (m.done || m.error !== undefined) {
          clearTimeout(timer);
          resolve(m.done ? 'done' : 'failed');
        }
      });
      job.onFailure(() => {
        clearTimeout(timer);
        resolve('failed');
      });
    });
    if (outcome === 'timeout') {
      const what = stage === 'tokenizer' ? 'its pre-tokenizer (a regular expression that backtracks without end?)' : 'the chat template (a loop without end, e.g. range(100000000)?)';
      throw new Error(`${files[stage]}: ${what} did not finish a short test within ${timeLimitMs / 1000} s and was stopped; this model's ${stage} cannot be used`);
    }
  } finally {
    job.stop();
  }
}
