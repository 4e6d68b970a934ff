import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/** The files in name order: lvs-dr first, since it begins from the freshly booted lab. */
class ByName extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    return [...files].sort((a, b) => a.moduleId.localeCompare(b.moduleId));
  }
}

/** The end-to-end tests: one lab, booted once for all files, steps in order. They need root, qemu and systemd-nspawn. */
export default defineConfig({
  test: {
    include: ['test/e2e/**/*.test.ts'],
    globalSetup: ['test/e2e/setup.ts'],
    testTimeout: 900_000,
    hookTimeout: 1_200_000,
    fileParallelism: false,
    sequence: { concurrent: false, sequencer: ByName },
  },
});
