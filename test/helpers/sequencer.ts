/**
 * The order in which vitest starts the test files. Once it has timings of its
 * own (node_modules/.vite/vitest, written after every run) vitest starts the
 * longest files first; without them (a fresh clone: CI) it starts the largest
 * files first, and a short file with slow tests (50,000 directories made and
 * removed four times, 100 runs at once) then starts last and runs alone at the
 * end. So without timings, the files below start first in their project, in
 * this order.
 */
import { relative } from 'node:path';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * The files that take longest, longest first within each project (on a 2-core
 * VM, as root, two runs averaged: integration files from 130 s for
 * redteam-quarantine down to 20 s, the others less; unit files from 5 s down
 * to 2.5 s, the others less).
 * Stale entries only cost time, never a test.
 */
export const LONGEST_FILES: readonly string[] = [
  'test/unit/policy-parse-abort.test.ts',
  'test/unit/audit-lock.test.ts',
  'test/unit/audit-seal.test.ts',
  'test/unit/profile-fuzz.test.ts',
  'test/integration/redteam-quarantine.test.ts',
  'test/integration/terminal.test.ts',
  'test/integration/credentials-tls.test.ts',
  'test/integration/faults.test.ts',
  'test/integration/audit.test.ts',
  'test/integration/mcp.test.ts',
  'test/integration/exitcodes.test.ts',
  'test/integration/backends.test.ts',
  'test/integration/filesystem.test.ts',
  'test/integration/network.test.ts',
  'test/integration/limits.test.ts',
  'test/integration/snapshot.test.ts',
  'test/integration/after-run.test.ts',
  'test/integration/credentials-aws.test.ts',
  'test/integration/selftest.test.ts',
  'test/integration/protect-cache.test.ts',
  'test/integration/own-paths.test.ts',
  'test/integration/quarantine.test.ts',
];

export class LongestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const root = this.ctx.config.root;
    const path = (file: TestSpecification): string => relative(root, file.moduleId).split('\\').join('/');
    const timed = sorted.some((file) => this.ctx.cache.getFileTestResults(`${file.project.name}:${path(file)}`) !== undefined);
    if (timed) return sorted;
    const rank = (file: TestSpecification): number => {
      const at = LONGEST_FILES.indexOf(path(file));
      return at === -1 ? LONGEST_FILES.length : at;
    };
    // Stable: the projects keep their order (unit first), and so do the files of neither list.
    const position = new Map(sorted.map((file, i) => [file, i]));
    const project = (file: TestSpecification): number => sorted.findIndex((other) => other.project === file.project);
    return [...sorted].sort((a, b) => project(a) - project(b) || rank(a) - rank(b) || (position.get(a) ?? 0) - (position.get(b) ?? 0));
  }
}
