// End-to-end tests in Debian's headless Chromium (/usr/bin/chromium, package `chromium`), never a
// downloaded browser. `npm test` builds dist/ first; the web server here only serves it.
//
// WebGPU without a GPU: Chromium on Linux still keeps WebGPU behind a flag, and without
// --enable-unsafe-webgpu navigator.gpu exists but requestAdapter() returns null. With it, headless
// Chromium's GPU process loads the Vulkan loader and the SwiftShader ICD that the chromium package ships
// (/usr/lib/chromium/vk_swiftshader_icd.json, libvk_swiftshader.so) and offers a software adapter
// (vendor google, architecture swiftshader), in pages and in Web Workers alike. Measured with Chromium 156
// on Debian 12: --enable-features=Vulkan, --use-vulkan=swiftshader, --use-webgpu-adapter=swiftshader and
// --use-angle=swiftshader change nothing here, so they are left out; on a machine with a real GPU the
// flag above gives the hardware adapter instead.
import { defineConfig } from '@playwright/test';

// E2E_PORT lets several checkouts on one machine run their specs at once.
const PORT = Number(process.env.E2E_PORT ?? 4173);

export default defineConfig({
  testDir: 'e2e',
  outputDir: 'test-results/playwright',
  // SwiftShader runs every kernel on the CPU. Two workers: the kernel self-test (about 5 minutes of one
  // core, project "selftest", listed first so that it starts first) beside the page flows (project "flows",
  // one spec file at a time); measured on 2 cores, 9.0 min for the whole suite against about 12 one at a
  // time. The big-dataset spec measures how long the page's thread is blocked, so it runs alone once both
  // are done (project "alone"); to run it by itself: `npx playwright test big_dataset --no-deps`.
  workers: 2,
  fullyParallel: false,
  projects: [
    { name: 'selftest', testMatch: /selftest\.spec\.ts$/ },
    { name: 'flows', testIgnore: [/selftest\.spec\.ts$/, /big_dataset\.spec\.ts$/] },
    { name: 'alone', testMatch: /big_dataset\.spec\.ts$/, dependencies: ['selftest', 'flows'] },
  ],
  retries: 0,
  timeout: 15 * 60_000,
  forbidOnly: !!process.env.CI,
  reporter: [['list']],
  use: {
    baseURL: `http://localhost:${PORT}`,
    browserName: 'chromium',
    headless: true,
    viewport: { width: 1280, height: 900 },
    launchOptions: {
      executablePath: '/usr/bin/chromium',
      args: [
        '--enable-unsafe-webgpu',
        '--no-sandbox', // the tests may run as root, where Chromium's sandbox refuses to start
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    },
  },
  webServer: {
    command: `npx vite preview --port ${PORT} --strictPort`,
    url: `http://localhost:${PORT}`,
    reuseExistingServer: false,
    timeout: 60_000,
  },
});
