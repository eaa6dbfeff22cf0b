/**
 * Cases of a file that run at once: the same tests for each runner (or
 * backend), where each case's tests wait mostly on the sandboxes they start.
 * Each case's tests still run one after another, with its own hooks, project
 * and processes; only the cases overlap.
 */
import { describe } from 'vitest';

/** `describe.skipIf(skip).each(cases)(name, body)`, the cases running at once, each case's tests in order. */
export function casesAtOnce<T extends object>(cases: readonly T[], name: string, { skip = false }: { skip?: boolean }, body: (c: T) => void): void {
  describe.skipIf(skip).each(cases)(name, { concurrent: true }, (c: T) => {
    describe.sequential('in order', () => body(c));
  });
}
