/**
 * Whether the caller can lend the command its terminal through isolate's
 * relay (run/tty/): isolate's stdin and stdout are terminals (output to a
 * file or a pipe stays byte-exact), and isolate runs in the terminal's
 * foreground (a background isolate that changed the terminal's modes would
 * be stopped by SIGTTOU, and would read keys meant for the shell).
 */
import { readFileSync } from 'node:fs';
import { isatty } from 'node:tty';

/** The process group and the terminal's foreground group, from /proc/self/stat (Linux); undefined elsewhere. */
function foregroundOnLinux(): boolean | undefined {
  let stat: string;
  try {
    stat = readFileSync('/proc/self/stat', 'utf8');
  } catch {
    return undefined;
  }
  // After "pid (comm) ": state ppid pgrp session tty_nr tpgid ...
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const pgrp = Number(fields[2]);
  const tpgid = Number(fields[5]);
  return Number.isInteger(pgrp) && pgrp === tpgid;
}

export function callerOnTerminal(): boolean {
  if (!isatty(0) || !isatty(1)) return false;
  return foregroundOnLinux() ?? true;
}
