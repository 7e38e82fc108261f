// The models and datasets downloaded from the Hub into this browser (Cache Storage), with their sizes;
// each can be deleted. Unfinished downloads (kept to be resumed) are shown apart.

import { useEffect, useState } from 'react';
import { BrowserHubCache } from '../../hub/cache_browser';
import type { CachedRepo } from '../../hub/cache';
import { formatSize } from '../../hub/download';
import { useHubSettings } from './settings';

export function HubCacheManager() {
  const version = useHubSettings((s) => s.cacheVersion);
  const changed = useHubSettings((s) => s.cacheChanged);
  const [repos, setRepos] = useState<CachedRepo[] | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    void BrowserHubCache.open()
      .then((c) => (c.available ? c.list() : Promise.reject(new Error('this browser gives the page no Cache Storage: downloads are not kept'))))
      .then(
        (r) => live && setRepos(r),
        (e: Error) => live && setProblem(e.message),
      );
    return () => {
      live = false;
    };
  }, [version]);
  const total = (repos ?? []).reduce((a, r) => a + r.bytes + r.partialBytes, 0);
  return (
    <details className="hub-cache" data-testid="hub-cache">
      <summary className="small">
        Downloaded from the Hub{repos ? ` (${repos.length}, ${formatSize(total)})` : ''}
      </summary>
      {problem ? <p className="help">{problem}</p> : null}
      {repos && repos.length === 0 ? <p className="help">Nothing yet.</p> : null}
      {repos && repos.length > 0 ? (
        <table className="limits hub-cache-table">
          <tbody>
            {repos.map((r) => (
              <tr key={`${r.endpoint} ${r.kind} ${r.repo} ${r.revision}`} data-testid="hub-cache-row" data-repo={r.repo}>
                <th scope="row" className="mono small">
                  {r.repo}
                  {r.revision !== 'main' && r.revision !== 'refs/convert/parquet' ? `@${r.revision}` : ''}
                  <span className="muted"> {r.kind}</span>
                  {r.endpoint !== 'https://huggingface.co' ? <span className="muted"> ({r.endpoint})</span> : null}
                </th>
                <td className="num small">
                  {r.files} file{r.files === 1 ? '' : 's'}, {formatSize(r.bytes)}
                  {r.partialBytes ? <span className="muted"> + {formatSize(r.partialBytes)} unfinished</span> : null}
                </td>
                <td>
                  <button
                    type="button"
                    className="secondary small"
                    aria-label={`Delete ${r.repo} from the cache`}
                    onClick={() => void BrowserHubCache.open().then((c) => c.delete(r)).then(changed)}
                  >
                    Delete
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </details>
  );
}
