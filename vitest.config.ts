import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

/**
 * Two tiers. `unit` needs nothing but Node: no root, no image. `integration` (and the terminal UI tests)
 * starts real hosts, so it builds the lab image first and runs one file at a time, after the unit tier.
 */
export default defineConfig({
  resolve: {
    alias: [
      { find: /^keel\/testing$/, replacement: fileURLToPath(new URL('./src/testing.ts', import.meta.url)) },
      { find: /^keel$/, replacement: fileURLToPath(new URL('./src/index.ts', import.meta.url)) },
    ],
  },
  test: {
    testTimeout: 120_000,
    projects: [
      { extends: true, test: { name: 'unit', include: ['test/unit/**/*.test.ts'], setupFiles: ['test/setup/stateDirectory.ts'] } },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts', 'test/ui/**/*.test.ts'],
          globalSetup: ['test/setup/image.ts'],
          hookTimeout: 600_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
