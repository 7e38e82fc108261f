// The long browser run (`npm run soak:browser`, outside `npm test`): the same browser and server as
// playwright.config.ts, tests from soak/, on another port so it can run beside the e2e suite.
import { defineConfig } from '@playwright/test';
import base from './playwright.config';

const PORT = 4183;

export default defineConfig({
  ...base,
  testDir: 'soak',
  outputDir: 'test-results/soak',
  timeout: 60 * 60_000,
  use: {
    ...base.use,
    baseURL: `http://localhost:${PORT}`,
    // window.gc(), so that the heap is measured after a collection rather than somewhere on its sawtooth
    launchOptions: { ...base.use?.launchOptions, args: [...(base.use?.launchOptions?.args ?? []), '--js-flags=--expose-gc'] },
  },
  webServer: { command: `npx vite preview --port ${PORT} --strictPort`, url: `http://localhost:${PORT}`, reuseExistingServer: false, timeout: 60_000 },
});
