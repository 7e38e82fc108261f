// Page entry: starts the engine worker (all GPU work happens there), connects the store to it, loads the
// built-in model and the main demo dataset so that Start is all a newcomer presses, and renders.

import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './ui/App';
import { connectEngine, useAppStore } from './ui/store';
import { DEFAULT_DEMO_DATASET_ID } from './demo/builtin';
import { startEngineWorker } from './worker/client';
import { startExperiments } from './ui/runs/init';
import './ui/styles.css';

const engine = startEngineWorker();
connectEngine(engine);
// The engine client, for scripted use from the console and for the end-to-end tests.
(window as unknown as { grpoEngine: typeof engine }).grpoEngine = engine;

const store = useAppStore.getState();
// ?autoload=0 opens an empty playground (tests that drive the worker themselves)
const autoload = new URLSearchParams(location.search).get('autoload') !== '0';
void store.loadAdapter().then(() => {
  if (!autoload) return;
  // parsing the dataset needs no GPU, so the data can be explored even without WebGPU
  void store.selectDemoDataset(DEFAULT_DEMO_DATASET_ID);
  if (useAppStore.getState().adapter.status === 'ready') void store.loadBuiltinModel();
});
// the runs library, the kept eval file, and a sweep interrupted by a reload
startExperiments();
// buffer pool counters and device loss, for the GPU status
setInterval(() => {
  if (useAppStore.getState().adapter.status === 'ready' && document.visibilityState === 'visible') void useAppStore.getState().refreshGpuStatus();
}, 2000);

const root = document.getElementById('root');
if (!root) throw new Error('index.html has no #root element');
createRoot(root).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
