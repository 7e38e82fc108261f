// The page's Hub settings: the endpoint (default https://huggingface.co; kept in localStorage, it is not a
// secret) and an optional access token, held in this tab's memory only: never in localStorage, the config,
// exports or checkpoints, and sent only to the endpoint's own origin (HubClient). A store of its own, apart
// from the app's store, so that nothing that serialises the app's state can reach the token.

import { create } from 'zustand';
import { BrowserHubCache } from '../../hub/cache_browser';
import { DEFAULT_ENDPOINT, HubClient, normalizeEndpoint } from '../../hub/client';

const ENDPOINT_KEY = 'grpo-playground.hub-endpoint';

function storedEndpoint(): string {
  try {
    return localStorage.getItem(ENDPOINT_KEY) || DEFAULT_ENDPOINT;
  } catch {
    return DEFAULT_ENDPOINT;
  }
}

interface HubSettings {
  endpoint: string;
  token: string;
  /** bumped when the cache changes (a download, a delete), so the cache manager lists again */
  cacheVersion: number;
  setEndpoint(endpoint: string): void;
  setToken(token: string): void;
  cacheChanged(): void;
}

export const useHubSettings = create<HubSettings>((set) => ({
  endpoint: typeof localStorage === 'undefined' ? DEFAULT_ENDPOINT : storedEndpoint(),
  token: '',
  cacheVersion: 0,
  setEndpoint(endpoint) {
    set({ endpoint });
    try {
      if (endpoint.trim() && endpoint.trim() !== DEFAULT_ENDPOINT) localStorage.setItem(ENDPOINT_KEY, endpoint.trim());
      else localStorage.removeItem(ENDPOINT_KEY);
    } catch {
      // storage blocked: the setting lasts for this tab
    }
  },
  setToken: (token) => set({ token }),
  cacheChanged: () => set((s) => ({ cacheVersion: s.cacheVersion + 1 })),
}));

/** A client for the current settings (throws a clear message for a bad endpoint) and the page's cache. */
export async function hubContext(): Promise<{ client: HubClient; cache: BrowserHubCache }> {
  const { endpoint, token } = useHubSettings.getState();
  const client = new HubClient({
    endpoint: normalizeEndpoint(endpoint),
    token: token || null,
    tokenHint: 'an access token in the Hub settings (kept in this tab only)',
    // the files are kept in Cache Storage: the browser's HTTP cache would only hold a second copy (and
    // answers a resumed Range request from its own partial entry)
    fetch: (input, init) => fetch(input, { ...init, cache: 'no-store' }),
  });
  return { client, cache: await BrowserHubCache.open() };
}
