// The Hub's endpoint and access token, folded under "Hub settings". The token field is a password field
// whose value lives in this tab's memory only (settings.ts).

import { DEFAULT_ENDPOINT } from '../../hub/client';
import { useHubSettings } from './settings';

export function HubSettingsFields({ idPrefix }: { idPrefix: string }) {
  const endpoint = useHubSettings((s) => s.endpoint);
  const token = useHubSettings((s) => s.token);
  const setEndpoint = useHubSettings((s) => s.setEndpoint);
  const setToken = useHubSettings((s) => s.setToken);
  const custom = endpoint.trim() !== '' && endpoint.trim() !== DEFAULT_ENDPOINT;
  return (
    <details className="hub-settings" open={custom || token !== '' ? true : undefined}>
      <summary className="small">
        Hub settings{custom ? `: ${endpoint}` : ''}
        {token ? ' · token set' : ''}
      </summary>
      <label className="field-label" htmlFor={`${idPrefix}-endpoint`}>
        Hub endpoint
      </label>
      <input
        id={`${idPrefix}-endpoint`}
        className="input mono"
        value={endpoint}
        placeholder={DEFAULT_ENDPOINT}
        onChange={(e) => setEndpoint(e.target.value)}
        spellCheck={false}
      />
      <p className="help">
        {DEFAULT_ENDPOINT} by default; a mirror must be https (or http on localhost) and serve the Hub's API.
      </p>
      <label className="field-label" htmlFor={`${idPrefix}-token`}>
        Access token (for gated or private repositories)
      </label>
      <input
        id={`${idPrefix}-token`}
        className="input mono"
        type="password"
        autoComplete="off"
        value={token}
        placeholder="hf_..."
        onChange={(e) => setToken(e.target.value)}
      />
      <p className="help">Kept in this tab's memory only (never saved, exported or checkpointed) and sent only to the endpoint above.</p>
    </details>
  );
}
