import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin } from 'vitest/config';
import { LongestFirst } from './helpers/sequencer.js';
import { UNIT_ISOLATED } from './helpers/unit-isolated.js';

/** The workflow validator's files name source maps of sources it does not ship; loaded without the reference, Vite does not warn about each. */
const workflowParserWithoutSourceMaps: Plugin = {
  name: 'workflow-parser-without-source-maps',
  enforce: 'pre',
  load(id) {
    if (!/[\\/]node_modules[\\/]@actions[\\/]workflow-parser[\\/].*\.js$/.test(id)) return null;
    return readFileSync(id, 'utf8').replace(/^\/\/# sourceMappingURL=.*$/m, '');
  },
};

const UNIT_FILES = ['test/unit/**/*.test.ts', 'test/golden/**/*.test.ts'];

/** What the two unit projects share. */
const UNIT = {
  setupFiles: ['test/helpers/builtins-from-source.ts'],
  server: { deps: { inline: ['@actions/workflow-parser'] } },
  maxWorkers: '100%',
  sequence: { groupOrder: 0 },
};

export default defineConfig({
  root: fileURLToPath(new URL('..', import.meta.url)),
  plugins: [workflowParserWithoutSourceMaps],
  test: {
    // Guards against a hang, not measures: a loaded 2-core CI runner is many times slower than a quiet machine (a
    // server's start and two calls took over 30 s there), and a run inside a test may take up to RUN_TIMEOUT_MS.
    testTimeout: 90_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Without timings of its own (a fresh clone: CI) vitest starts the largest files first; LongestFirst starts the
    // files known to take longest first instead, so that none of them is left running alone at the end.
    sequence: { sequencer: LongestFirst },
    // UPDATE_GOLDEN=1 (npm run golden:update): rewrite the golden files that differ, and write missing ones (test/golden/golden-file.ts).
    update: process.env['UPDATE_GOLDEN'] === '1',
    projects: [
      // Unit and golden tests: no dist/, no system user, no sandbox. They keep the processor busy: one file per core.
      // @actions/workflow-parser (the workflow validator) imports its JSON schemas without import attributes, which Node refuses: Vite transforms it instead.
      // Most share their worker's modules with the files before them (isolate: false): loading the sources afresh for
      // each file took 40% of the project's processor time. The files that mock modules, change the process (its
      // environment, its clock) or depend on the state of a module they load (the shell parser's) run each in a fresh
      // worker of their own (unit-isolated).
      {
        extends: true,
        test: { ...UNIT, name: 'unit', include: UNIT_FILES, exclude: [...UNIT_ISOLATED], isolate: false },
      },
      {
        extends: true,
        test: { ...UNIT, name: 'unit-isolated', include: [...UNIT_ISOLATED] },
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
