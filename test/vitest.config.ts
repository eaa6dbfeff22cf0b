import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin } from 'vitest/config';
import { LongestFirst } from './helpers/sequencer.js';

/** The workflow validator's files name source maps of sources it does not ship; loaded without the reference, Vite does not warn about each. */
const workflowParserWithoutSourceMaps: Plugin = {
  name: 'workflow-parser-without-source-maps',
  enforce: 'pre',
  load(id) {
    if (!/[\\/]node_modules[\\/]@actions[\\/]workflow-parser[\\/].*\.js$/.test(id)) return null;
    return readFileSync(id, 'utf8').replace(/^\/\/# sourceMappingURL=.*$/m, '');
  },
};

export default defineConfig({
  root: fileURLToPath(new URL('..', import.meta.url)),
  plugins: [workflowParserWithoutSourceMaps],
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Without timings of its own (a fresh clone: CI) vitest starts the largest files first; LongestFirst starts the
    // files known to take longest first instead, so that none of them is left running alone at the end.
    sequence: { sequencer: LongestFirst },
    // UPDATE_GOLDEN=1 (npm run golden:update): rewrite the golden files that differ, and write missing ones (test/golden/golden-file.ts).
    update: process.env['UPDATE_GOLDEN'] === '1',
    projects: [
      // Unit and golden tests: no dist/, no system user, no sandbox. They keep the processor busy: one file per core.
      // @actions/workflow-parser (the workflow validator) imports its JSON schemas without import attributes, which Node refuses: Vite transforms it instead.
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts', 'test/golden/**/*.test.ts'],
          setupFiles: ['test/helpers/builtins-from-source.ts'],
          server: { deps: { inline: ['@actions/workflow-parser'] } },
          maxWorkers: '100%',
          sequence: { groupOrder: 0 },
        },
      },
      // Integration tests run the built CLI, as root and as the unprivileged user the set-up creates. They mostly wait on
      // the processes they start (sandboxes, timeouts, signals), so more files run at once than there are cores: one
      // and a half per core, as a number (vitest caps a percentage at the number of cores: '150%' ran two on two). The
      // unit project runs first, on its own (a project's files run beside those of another only when both allow as many).
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          globalSetup: ['test/helpers/global-setup.ts'],
          maxWorkers: Math.max(2, Math.round(availableParallelism() * 1.5)),
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
