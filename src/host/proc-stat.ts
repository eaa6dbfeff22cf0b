/**
 * One process's /proc/<pid>/stat, read the one way that survives a command
 * name holding spaces or parentheses: the name is between the first `(`
 * and the last `)`, and the fields after it are split on spaces. Linux.
 */
import { readFileSync } from 'node:fs';

export interface ProcStat {
  /** The command name (field 2, without its parentheses). */
  comm: string;
  /** Field `n` as proc(5) numbers them (3, the state, and on), as text; undefined past the end. */
  field: (n: number) => string | undefined;
}

/** The process's stat; undefined where /proc does not say (gone, not Linux). */
export function procStat(pid: number | 'self'): ProcStat | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  const close = stat.lastIndexOf(')');
  const after = stat.slice(close + 2).split(' ');
  return { comm: stat.slice(stat.indexOf('(') + 1, close), field: (n) => after[n - 3] };
}
