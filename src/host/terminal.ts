/**
 * Whether the caller can lend the command its terminal through isolate's
 * relay (run/tty/): isolate's stdin and stdout are terminals (output to a
 * file or a pipe stays byte-exact), and isolate runs in the terminal's
 * foreground (a background isolate that changed the terminal's modes would
 * be stopped by SIGTTOU, and would read keys meant for the shell).
 */
import { isatty } from 'node:tty';
import { procStat } from './proc-stat.js';

/** The process group and the terminal's foreground group, from /proc/self/stat (Linux); undefined elsewhere. */
function foregroundOnLinux(): boolean | undefined {
  const stat = procStat('self');
  if (stat === undefined) return undefined;
  // pgrp is field 5, tpgid field 8.
  const pgrp = Number(stat.field(5));
  const tpgid = Number(stat.field(8));
  return Number.isInteger(pgrp) && pgrp === tpgid;
}

export function callerOnTerminal(): boolean {
  if (!isatty(0) || !isatty(1)) return false;
  return foregroundOnLinux() ?? true;
}
