// GPU status at a glance (the header's chip, which opens the GPU tab) and the page-wide banners: no
// WebGPU, a lost device, a stopped engine worker. Each says what happened and what to do.

import { useAppStore } from './store';
import { formatBytes } from './model/memory';

export function GpuChip() {
  const adapter = useAppStore((s) => s.adapter);
  const pool = useAppStore((s) => s.pool);
  const lost = useAppStore((s) => s.deviceLost);
  const open = useAppStore((s) => s.setResultsTab);
  let text: string;
  let tone: 'ok' | 'warn' | 'fail' | 'idle';
  if (lost) [text, tone] = ['GPU lost', 'fail'];
  else if (adapter.status === 'ready') {
    const a = adapter.info.adapter;
    const name = a.description || `${a.vendor} ${a.architecture}`.trim() || 'GPU';
    text = `${name}${a.isSoftware ? ' (software)' : ''}${pool ? ` · ${formatBytes(pool.bytesInUse)} in use` : ''}`;
    tone = a.isSoftware ? 'warn' : 'ok';
  } else if (adapter.status === 'unavailable' || adapter.status === 'error') [text, tone] = ['No WebGPU', 'fail'];
  else [text, tone] = ['Starting WebGPU…', 'idle'];
  return (
    <button
      type="button"
      className={`gpu-chip gpu-chip-${tone}`}
      data-testid="gpu-chip"
      data-ready={adapter.status === 'ready'}
      onClick={() => {
        open('gpu');
        document.getElementById('results-tabs')?.scrollIntoView({ behavior: 'smooth', block: 'start' });
      }}
      title="GPU status"
    >
      <span className="status-dot" aria-hidden="true" />
      {text}
    </button>
  );
}

export function Banners() {
  const adapter = useAppStore((s) => s.adapter);
  const lost = useAppStore((s) => s.deviceLost);
  const workerFailed = useAppStore((s) => s.workerFailed);
  return (
    <>
      {adapter.status === 'unavailable' ? (
        <div className="banner callout callout-error" role="alert" data-testid="webgpu-unavailable">
          <h3>{adapter.problem}</h3>
          <p>{adapter.help}</p>
        </div>
      ) : null}
      {adapter.status === 'error' ? (
        <div className="banner callout callout-error" role="alert" data-testid="adapter-error">
          <h3>The engine worker could not describe the GPU</h3>
          <p className="mono">{adapter.message}</p>
        </div>
      ) : null}
      {lost ? (
        <div className="banner callout callout-error" role="alert" data-testid="device-lost">
          <h3>The GPU device was lost</h3>
          <p>
            <span className="mono">{lost}</span>. The browser took the GPU away (a driver reset, another tab, or too much memory). Export what you need: the
            metrics, config and script still work. Reload the page to start again; a smaller run (fewer generations, shorter completions) uses less memory.
          </p>
        </div>
      ) : null}
      {workerFailed ? (
        <div className="banner callout callout-error" role="alert" data-testid="worker-failed">
          <h3>The engine stopped</h3>
          <p>
            <span className="mono">{workerFailed}</span>. Reload the page to start it again.
          </p>
        </div>
      ) : null}
    </>
  );
}
