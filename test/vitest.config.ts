import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  root: fileURLToPath(new URL('..', import.meta.url)),
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/helpers/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // UPDATE_GOLDEN=1 (npm run golden:update): rewrite the golden files that differ, and write missing ones (test/golden/golden-file.ts).
    update: process.env['UPDATE_GOLDEN'] === '1',
  },
});
