// The page's load-probe worker (Vite bundles it from this file): runs runLoadProbe and posts its stages,
// then "done" or the error; load_probe.ts terminates it at the time limit.
import { Tokenizer } from '@huggingface/tokenizers';
import { Template } from '@huggingface/jinja';
import { runLoadProbe, type ProbeInput } from './load_probe_run';

self.onmessage = async (ev: MessageEvent<ProbeInput>) => {
  try {
    await runLoadProbe({ Tokenizer, Template } as never, ev.data, (stage) => self.postMessage({ stage }));
    self.postMessage({ done: true });
  } catch (e) {
    self.postMessage({ error: e instanceof Error ? e.message : String(e) });
  }
};
