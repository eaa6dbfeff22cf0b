/**
 * isolate proxy: the filtering proxy on its own. The API (startProxy) loads
 * the profile and listens; here the connections become JSON lines and a
 * signal stops the server.
 */
import { appendFileSync } from 'node:fs';
import { startProxy, type NetworkEvent } from '../index.js';
import { IsolateError } from '../errors.js';
import { profileName } from './common.js';
import type { CliContext } from './context.js';
import type { Invocation } from './program.js';

interface ProxyFlags {
  listen: string;
  allowRemote?: boolean;
  log?: string;
  allowDomain?: string[];
  denyDomain?: string[];
}

const STOP_SIGNALS: readonly NodeJS.Signals[] = ['SIGTERM', 'SIGINT'];

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
  const stopped = untilSignal();
  const server = await startProxy({
    profile: profileName(inv),
    callerEnv: ctx.env,
    callerCwd: process.cwd(),
    listen: flags.listen,
    ...(flags.allowRemote === true ? { allowRemote: true } : {}),
    ...(flags.allowDomain === undefined ? {} : { allowDomain: flags.allowDomain }),
    ...(flags.denyDomain === undefined ? {} : { denyDomain: flags.denyDomain }),
    onEvent: eventWriter(flags, ctx),
  });
  const s = ctx.output.style('err');
  if (server.remote) ctx.output.err(`${s.yellow('warning:')} --allow-remote: anyone who can reach ${server.address} can use this proxy\n`);
  ctx.output.err(`isolate proxy: listening on ${server.address}\n`);
  const signal = await stopped;
  await server.stop();
  ctx.output.err(`isolate proxy: ${signal}: stopped (${server.counts.allowed} allowed, ${server.counts.denied} denied)\n`);
  return 0;
}
