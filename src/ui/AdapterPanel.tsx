// The GPU the engine worker acquired: adapter, features, the limits that bound model sizes, and the buffer
// pool; or, without WebGPU, what is missing and how to turn it on.

import type { PoolStats } from '../gpu/buffer_pool';
import { REPORTED_LIMITS, type ReportedLimit } from '../worker/protocol';
import { useAppStore } from './store';
import { KernelVariants } from './KernelVariants';

/** Limits measured in bytes (shown as KiB/MiB/GiB); the others are counts. */
const BYTE_LIMITS = new Set<ReportedLimit>(['maxBufferSize', 'maxStorageBufferBindingSize', 'maxComputeWorkgroupStorageSize']);

function formatBytes(n: number): string {
  if (n >= 2 ** 30) return `${(n / 2 ** 30).toFixed(2)} GiB`;
  if (n >= 2 ** 20) return `${(n / 2 ** 20).toFixed(1)} MiB`;
  if (n >= 2 ** 10) return `${(n / 2 ** 10).toFixed(1)} KiB`;
  return `${n} B`;
}

export function AdapterPanel() {
  const adapter = useAppStore((s) => s.adapter);
  const lost = useAppStore((s) => s.deviceLost);
  return (
    <section className="panel" aria-labelledby="adapter-title" data-testid="adapter-panel">
      <h2 id="adapter-title">GPU adapter</h2>
      {lost ? (
        <div className="callout callout-error" data-testid="adapter-lost">
          <h3>The GPU device was lost</h3>
          <p className="mono">{lost}</p>
        </div>
      ) : null}
      {adapter.status === 'idle' || adapter.status === 'loading' ? (
        <p className="muted" role="status">
          Starting WebGPU in the engine worker…
        </p>
      ) : adapter.status === 'unavailable' ? (
        <div className="callout callout-error" data-testid="adapter-unavailable">
          <h3>{adapter.problem}</h3>
          <p>{adapter.help}</p>
        </div>
      ) : adapter.status === 'error' ? (
        <div className="callout callout-error" role="alert" data-testid="adapter-error">
          <h3>The engine worker could not describe the GPU</h3>
          <p className="mono">{adapter.message}</p>
        </div>
      ) : (
        <AdapterDetails />
      )}
    </section>
  );
}

function AdapterDetails() {
  const adapter = useAppStore((s) => s.adapter);
  const pool = useAppStore((s) => s.pool);
  if (adapter.status !== 'ready') return null;
  const { adapter: a, limits } = adapter.info;
  return (
    <>
      <dl className="facts" data-testid="adapter-facts">
        <dt>Vendor</dt>
        <dd data-testid="adapter-vendor">{a.vendor || 'not reported'}</dd>
        <dt>Architecture</dt>
        <dd data-testid="adapter-architecture">{a.architecture || 'not reported'}</dd>
        <dt>Description</dt>
        <dd>{a.description || a.device || 'not reported'}</dd>
        <dt>Kind</dt>
        <dd>
          {a.isSoftware ? (
            <>
              <span className="tag tag-warn">software</span>
              <div className="muted note">Slow: enough for tests, not for training.</div>
            </>
          ) : (
            <span className="tag tag-ok">hardware</span>
          )}
        </dd>
      </dl>

      <h3>Limits</h3>
      <table className="limits">
        <tbody>
          {REPORTED_LIMITS.map((name) => (
            <tr key={name}>
              <th scope="row" className="mono">
                {name}
              </th>
              <td className="num">{BYTE_LIMITS.has(name) ? formatBytes(limits[name]) : limits[name].toLocaleString('en-US')}</td>
            </tr>
          ))}
        </tbody>
      </table>

      <KernelVariants isSoftware={a.isSoftware} summary={adapter.info.autotune} />

      <h3>Buffer pool <span className="muted">(live)</span></h3>
      {pool ? <PoolTable pool={pool} /> : null}

      <h3>
        Features <span className="muted">({a.features.length})</span>
      </h3>
      <ul className="features" aria-label="Adapter features">
        {a.features.map((f) => (
          <li key={f} className="mono" title={f}>
            {f}
          </li>
        ))}
      </ul>
    </>
  );
}

function PoolTable({ pool }: { pool: PoolStats }) {
  return (
    <table className="limits" data-testid="pool-stats">
      <tbody>
        <tr>
          <th scope="row">Allocated</th>
          <td className="num">
            {formatBytes(pool.bytesAllocated)} in {pool.buffersAllocated} buffers
          </td>
        </tr>
        <tr>
          <th scope="row">In use</th>
          <td className="num">{formatBytes(pool.bytesInUse)}</td>
        </tr>
        <tr>
          <th scope="row">Peak allocated</th>
          <td className="num">{formatBytes(pool.peakBytesAllocated)}</td>
        </tr>
      </tbody>
    </table>
  );
}
