import { existsSync } from 'node:fs';
import path from 'node:path';
import { defineConfig, type LaunchOptions } from '@playwright/test';
import { FIXTURE_PATHS } from './e2e/paths';

/**
 * End-to-end tests: the real app (Vite dev server) in a real Chromium with WebGPU.
 *
 * Browser: `CHROMIUM_PATH`, else Debian's `/usr/bin/chromium` (its SwiftShader Vulkan
 * driver gives WebGPU on a machine without a GPU), else Playwright's own Chromium.
 *
 * Projects (each launches its own browser, because Chromium's fake-media flags are
 * process-wide):
 * - `app`: everything but the camera specs. Chromium's default fake camera, auto-accepted.
 * - `webcam`: the fake camera plays e2e fixtures' y4m (synthetic scenes, written by the
 *   global setup) so the frames have objects in them.
 * - `camera-denied`: no auto-accept of the permission prompt and no permission granted,
 *   so getUserMedia is refused, as when a user clicks "Block".
 *
 * SwiftShader emulates the GPU on the CPU: timeouts are generous and one worker runs
 * at a time (the machines this runs on have 2 cores).
 */

const PORT = Number(process.env.E2E_PORT ?? 5199);

function chromiumExecutable(): string | undefined {
  if (process.env.CHROMIUM_PATH) return process.env.CHROMIUM_PATH;
  if (existsSync('/usr/bin/chromium')) return '/usr/bin/chromium';
  return undefined; // Playwright's own browser
}

/** Flags checked to give headless WebGPU (SwiftShader) as root: /work/shared/TESTING.md. */
const BASE_ARGS = [
  '--no-sandbox',
  '--enable-unsafe-webgpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** A fake camera device; its frames are Chromium's test pattern unless a file is given. */
const FAKE_CAMERA_ARGS = ['--use-fake-device-for-media-stream'];
/** Accept every camera/microphone prompt without a dialog. */
const AUTO_ACCEPT_ARGS = ['--use-fake-ui-for-media-stream'];

function launch(extraArgs: string[]): LaunchOptions {
  return { executablePath: chromiumExecutable(), args: [...BASE_ARGS, ...extraArgs] };
}

const CAMERA_SPECS = /(webcam|camera-denied)\.spec\.ts$/;

export default defineConfig({
  testDir: './e2e',
  testMatch: /.*\.spec\.ts$/,
  outputDir: path.join(FIXTURE_PATHS.root, 'artifacts'),
  globalSetup: './e2e/global-setup.ts',
  fullyParallel: false,
  workers: 1,
  retries: process.env.CI ? 1 : 0,
  forbidOnly: !!process.env.CI,
  // SwiftShader: a model load + a few runs of post-processing take tens of seconds.
  timeout: 180_000,
  expect: { timeout: 60_000 },
  reporter: [['list'], ['html', { open: 'never', outputFolder: 'playwright-report' }]],
  use: {
    baseURL: `http://localhost:${PORT}`,
    viewport: { width: 1440, height: 900 },
    actionTimeout: 30_000,
    navigationTimeout: 60_000,
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
    acceptDownloads: true,
  },
  projects: [
    {
      name: 'app',
      testIgnore: CAMERA_SPECS,
      use: { launchOptions: launch([...FAKE_CAMERA_ARGS, ...AUTO_ACCEPT_ARGS]) },
    },
    {
      name: 'webcam',
      testMatch: /webcam\.spec\.ts$/,
      use: {
        launchOptions: launch([...FAKE_CAMERA_ARGS, ...AUTO_ACCEPT_ARGS, `--use-file-for-fake-video-capture=${FIXTURE_PATHS.webcamY4m}`]),
      },
    },
    {
      name: 'camera-denied',
      testMatch: /camera-denied\.spec\.ts$/,
      use: { launchOptions: launch(FAKE_CAMERA_ARGS), permissions: [] },
    },
  ],
  webServer: {
    command: `npx vite --config e2e/vite.config.ts --port ${PORT} --strictPort --host localhost`,
    url: `http://localhost:${PORT}/`,
    reuseExistingServer: !process.env.CI,
    timeout: 120_000,
    stdout: 'ignore',
    stderr: 'pipe',
  },
});
