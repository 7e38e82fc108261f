// The page: a header with the GPU chip; the run controls; then the setup column (model, data, rewards,
// settings) beside the results (live charts, then tabs for rollouts, try it, export and the GPU).

import type { KeyboardEvent } from 'react';
import { AdapterPanel } from './AdapterPanel';
import { SelfTestPanel } from './SelfTestPanel';
import { ChartsPanel } from './charts/ChartsPanel';
import { DatasetPanel } from './dataset/DatasetPanel';
import { ExportPanel } from './export/ExportPanel';
import { Banners, GpuChip } from './GpuStatus';
import { ModelPanel } from './model/ModelPanel';
import { RewardsPanel } from './rewards/RewardsPanel';
import { RolloutsPanel } from './rollouts/RolloutsPanel';
import { ResumeBanner } from './ResumeBanner';
import { RunBar } from './RunBar';
import { SettingsPanel } from './settings/SettingsPanel';
import { ToolsPanel } from './tools/ToolsPanel';
import { useAppStore } from './store';
import type { ResultsTab } from './store/view';
import { TryItPanel } from './tryit/TryItPanel';
import { ExperimentsPanel } from './runs/SweepPanel';

export function App() {
  return (
    <div className="page">
      <header className="site-header">
        <div className="brand">
          <h1>GRPO Playground</h1>
          <p className="tagline">GRPO + LoRA fine-tuning in a browser tab, on hand-written WebGPU kernels. Your data never leaves this machine.</p>
        </div>
        <GpuChip />
      </header>
      <Banners />
      <ResumeBanner />
      <RunBar />
      <div className="workspace">
        <aside className="setup" aria-label="Setup">
          <ModelPanel />
          <DatasetPanel />
          <RewardsPanel />
          <ToolsPanel />
          <SettingsPanel />
        </aside>
        <main className="results">
          <ChartsPanel />
          <ExperimentsPanel />
          <ResultsTabs />
        </main>
      </div>
    </div>
  );
}

const TABS: { id: ResultsTab; label: string }[] = [
  { id: 'rollouts', label: 'Rollouts' },
  { id: 'tryit', label: 'Try it' },
  { id: 'export', label: 'Export' },
  { id: 'gpu', label: 'GPU' },
];

function ResultsTabs() {
  const active = useAppStore((s) => s.resultsTab);
  const setTab = useAppStore((s) => s.setResultsTab);
  const steps = useAppStore((s) => s.rollouts.length);
  const onKey = (e: KeyboardEvent) => {
    const i = TABS.findIndex((t) => t.id === active);
    const next = e.key === 'ArrowRight' ? (i + 1) % TABS.length : e.key === 'ArrowLeft' ? (i + TABS.length - 1) % TABS.length : -1;
    if (next < 0) return;
    e.preventDefault();
    setTab(TABS[next].id);
    document.getElementById(`tab-${TABS[next].id}`)?.focus();
  };
  return (
    <section className="panel tabs-panel" id="results-tabs" data-testid="results-tabs">
      <div className="tablist" role="tablist" aria-label="Results" onKeyDown={onKey}>
        {TABS.map((t) => (
          <button
            key={t.id}
            id={`tab-${t.id}`}
            type="button"
            role="tab"
            className="tab"
            aria-selected={active === t.id}
            aria-controls={`tabpanel-${t.id}`}
            tabIndex={active === t.id ? 0 : -1}
            onClick={() => setTab(t.id)}
          >
            {t.label}
            {t.id === 'rollouts' && steps ? <span className="tab-count">{steps}</span> : null}
          </button>
        ))}
      </div>
      {/* every tab stays mounted (hidden when not selected), so switching keeps its state */}
      <div role="tabpanel" id="tabpanel-rollouts" aria-labelledby="tab-rollouts" hidden={active !== 'rollouts'} className="tabpanel">
        <RolloutsPanel />
      </div>
      <div role="tabpanel" id="tabpanel-tryit" aria-labelledby="tab-tryit" hidden={active !== 'tryit'} className="tabpanel">
        <TryItPanel />
      </div>
      <div role="tabpanel" id="tabpanel-export" aria-labelledby="tab-export" hidden={active !== 'export'} className="tabpanel">
        <ExportPanel />
      </div>
      <div role="tabpanel" id="tabpanel-gpu" aria-labelledby="tab-gpu" hidden={active !== 'gpu'} className="tabpanel">
        <div className="gpu-grid">
          <AdapterPanel />
          <SelfTestPanel />
        </div>
      </div>
    </section>
  );
}
