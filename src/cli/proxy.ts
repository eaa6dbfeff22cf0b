/**
 * isolate proxy: the filtering proxy on its own. The API (startProxy) loads
 * the profile, listens and records to the audit log when asked; here the
 * connections become JSON lines and a signal stops the server: at once it
 * stops listening, then gives open connections the grace period (a second
 * signal ends it early) before it closes them.
 */
import { appendFileSync } from 'node:fs';
import { startProxy, type NetworkEvent } from '../index.js';
import { IsolateError, oneLine } from '../errors.js';
import { parseDuration } from '../profile/limits.js';
import { profileName } from './common.js';
import type { CliContext } from './context.js';
import type { Invocation } from './program.js';
import { currentDir } from '../current-dir.js';

interface ProxyFlags {
  listen: string;
  allowRemote?: boolean;
  log?: string;
  allowDomain?: string[];
  denyDomain?: string[];
  /** --audit, or implied by --audit-log. */
  audit?: boolean;
  auditLog?: string;
  grace?: string;
}

const STOP_SIGNALS: readonly NodeJS.Signals[] = ['SIGTERM', 'SIGINT'];
/** How long open connections may go on after a stop signal, by default. */
export const DEFAULT_GRACE_MS = 5000;

function graceMs(flag: string | undefined): number {
  if (flag === undefined) return DEFAULT_GRACE_MS;
  if (/^\s*0+(ms|s)?\s*$/.test(flag)) return 0;
  const d = parseDuration(flag);
  if (!d.ok) throw new IsolateError('E_USAGE', `--grace: ${d.message}`, { fix: 'give --grace 5s, --grace 500ms or --grace 0' });
  return d.value;
}

/** Where each connection's line goes: stdout, or appended to --log (created private). */
function eventWriter(flags: ProxyFlags, ctx: CliContext): (e: NetworkEvent) => void {
  const log = flags.log;
  if (log === undefined) return (e) => ctx.output.out(`${JSON.stringify(e)}\n`);
  try {
    appendFileSync(log, '', { mode: 0o600 });
  } catch (e: unknown) {
    throw new IsolateError('E_USAGE', `--log ${log}: cannot write: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
  return (e) => appendFileSync(log, `${JSON.stringify(e)}\n`);
}

function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolvePromise) => {
    const on = (s: NodeJS.Signals): void => {
      for (const t of STOP_SIGNALS) process.off(t, on);
      resolvePromise(s);
    };
    for (const s of STOP_SIGNALS) process.on(s, on);
  });
}

export async function proxyCommand(inv: Invocation, ctx: CliContext): Promise<number> {
  const flags = inv.options as unknown as ProxyFlags;
  const grace = graceMs(flags.grace);
  const audited = flags.audit === true || flags.auditLog !== undefined;
  const stopped = untilSignal();
  const s = ctx.output.style('err');
  const server = await startProxy({
    profile: profileName(inv),
    callerEnv: ctx.env,
    callerCwd: currentDir(),
    listen: flags.listen,
    ...(flags.allowRemote === true ? { allowRemote: true } : {}),
    ...(flags.allowDomain === undefined ? {} : { allowDomain: flags.allowDomain }),
    ...(flags.denyDomain === undefined ? {} : { denyDomain: flags.denyDomain }),
    onEvent: eventWriter(flags, ctx),
    ...(audited ? { audit: { enabled: true, ...(flags.auditLog === undefined ? {} : { log: flags.auditLog }) } } : {}),
    onWarning: (text) => ctx.output.err(`${s.yellow('warning:')} ${oneLine(text)}\n`),
  });
  if (server.remote) ctx.output.err(`${s.yellow('warning:')} --allow-remote: anyone who can reach ${server.address} can use this proxy\n`);
  ctx.output.err(`isolate proxy: listening on ${server.address}\n`);
  const signal = await stopped;
  if (server.open > 0 && grace > 0) ctx.output.err(`isolate proxy: ${signal}: no new connections; waiting up to ${grace} ms for those open\n`);
  await server.stop(grace, untilSignal());
  ctx.output.err(`isolate proxy: ${signal}: stopped (${server.counts.allowed} allowed, ${server.counts.denied} denied)\n`);
  return 0;
}
