// The page: a header, then the GPU adapter beside the kernel self-test.

import { AdapterPanel } from './AdapterPanel';
import { SelfTestPanel } from './SelfTestPanel';

export function App() {
  return (
    <div className="page">
      <header className="site-header">
        <h1>GRPO Playground</h1>
        <p className="tagline">GRPO + LoRA fine-tuning of language models in a browser tab, on hand-written WebGPU kernels.</p>
      </header>
      <main className="layout">
        <AdapterPanel />
        <SelfTestPanel />
      </main>
    </div>
  );
}
