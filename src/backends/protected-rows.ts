/**
 * The protected paths of a plan as a person reads them (`isolate explain`'s
 * `protected` row, the MCP explain tool's text): each path, with why where
 * the name alone does not say (a directory on your PATH), and a missing one
 * marked as blocked for the run.
 */
import type { PlanSummary } from './types.js';

/** One line per protected path and placeholder of `s`. */
export function protectedRows(s: Pick<PlanSummary, 'protected' | 'placeholders' | 'protectedWhy'>): string[] {
  const because = (p: string): string[] => (s.protectedWhy?.[p] === undefined ? [] : [s.protectedWhy[p]]);
  const shown = (p: string, notes: readonly string[]): string => (notes.length === 0 ? p : `${p} (${notes.join('; ')})`);
  return [...s.protected.map((p) => shown(p, because(p))), ...s.placeholders.map((p) => shown(p, ['does not exist; blocked for the run', ...because(p)]))];
}
