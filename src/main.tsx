// Page entry: starts the engine worker (all GPU work happens there), connects the store to it, renders.

import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './ui/App';
import { connectEngine, useAppStore } from './ui/store';
import { startEngineWorker } from './worker/client';
import './ui/styles.css';

const engine = startEngineWorker();
connectEngine(engine);
// The engine client, for scripted use from the console and for the end-to-end tests.
(window as unknown as { grpoEngine: typeof engine }).grpoEngine = engine;
void useAppStore.getState().loadAdapter();

const root = document.getElementById('root');
if (!root) throw new Error('index.html has no #root element');
createRoot(root).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
