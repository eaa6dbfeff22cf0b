/**
 * bwrap's --json-status-fd: one JSON object a line. The first names the
 * sandbox's init (child-pid: the command starts) and its namespaces; the
 * last, when the command has exited, its status (exit-code).
 */
import type { Readable } from 'node:stream';

export interface StatusLine {
  childPid?: number;
  pidNamespace?: number;
  exitCode?: number;
}

/** The fields run/ reads from one line; undefined when it is not a status line. */
export function parseStatusLine(line: string): StatusLine | undefined {
  let msg: unknown;
  try {
    msg = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof msg !== 'object' || msg === null) return undefined;
  const field = (name: string): number | undefined => {
    const v = (msg as Record<string, unknown>)[name];
    return typeof v === 'number' ? v : undefined;
  };
  const [childPid, pidNamespace, exitCode] = [field('child-pid'), field('pid-namespace'), field('exit-code')];
  return {
    ...(childPid === undefined ? {} : { childPid }),
    ...(pidNamespace === undefined ? {} : { pidNamespace }),
    ...(exitCode === undefined ? {} : { exitCode }),
  };
}

/** Call `onLine` with each status line read from `pipe`. */
export function readStatus(pipe: Readable, onLine: (status: StatusLine) => void): void {
  let text = '';
  pipe.setEncoding('utf8');
  pipe.on('error', () => undefined);
  pipe.on('data', (chunk: string) => {
    text += chunk;
    let nl: number;
    while ((nl = text.indexOf('\n')) !== -1) {
      const status = parseStatusLine(text.slice(0, nl));
      text = text.slice(nl + 1);
      if (status !== undefined) onLine(status);
    }
  });
}
