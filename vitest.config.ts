import { defineConfig } from 'vitest/config';

// Unit and kernel tests run in Node. Kernel tests use Dawn (npm `webgpu`) with the
// SwiftShader Vulkan driver that Debian's chromium ships; see test/gpu.ts.
export default defineConfig({
  test: {
    include: ['app/**/*.test.ts', 'test/**/*.test.ts'],
    environment: 'node',
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
  },
});
