import { defineConfig } from 'vitest/config';

/** The end-to-end tests: one lab, booted once, steps in order. They need root, qemu and systemd-nspawn. */
export default defineConfig({
  test: {
    include: ['test/e2e/**/*.test.ts'],
    testTimeout: 900_000,
    hookTimeout: 1_200_000,
    fileParallelism: false,
    sequence: { concurrent: false },
  },
});
