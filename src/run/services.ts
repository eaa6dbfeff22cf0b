/**
 * Services isolate runs beside a sandbox: today the filtering proxy. Started
 * before the sandbox (a failure is exit 125: the command never runs without
 * its filter) and always stopped, with their sockets and directories removed;
 * what a killed run could not remove, the next filtered run does.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Service } from '../backends/types.js';
import type { LoopbackProxyService } from '../backends/sandbox-exec.js';
import { IsolateError, errnoCode } from '../errors.js';
import { NetworkEventLog } from '../network/event-log.js';
import { sweepProxyDirs } from '../host/proxy-dir.js';
import { ensurePrivateDir } from '../host/runtime-dir.js';
import type { ExecuteResult } from './result.js';
import type { RunCredentials } from '../network/credentials/spec.js';
import type { CredentialVault } from '../network/credentials/vault.js';
import type { CredentialServices } from './credential-services.js';

export interface RunningServices {
  /** What the proxy saw (the first attempts whole, the rest counted). */
  log: NetworkEventLog;
  /** The run's credentials, when it has any: what the proxy added and refused. */
  vault: CredentialVault | undefined;
  stop(): Promise<void>;
}

/** The longest path a unix socket can have (sun_path, less its NUL): 103 bytes on macOS, 107 on Linux. */
const MAX_SOCKET_PATH = process.platform === 'darwin' ? 103 : 107;

/** Node does not refuse a longer path, it binds a shortened one: the sandbox would find no socket. */
function checkSocketPath(path: string): void {
  const bytes = Buffer.byteLength(path);
  if (bytes <= MAX_SOCKET_PATH) return;
  throw new IsolateError('E_NETWORK_PROXY', `the proxy socket ${path} is ${bytes} bytes, longer than the ${MAX_SOCKET_PATH} a unix socket path can have`, {
    fix: 'set XDG_RUNTIME_DIR to a shorter private directory of yours (or XDG_STATE_HOME, used when XDG_RUNTIME_DIR is not set)',
  });
}

/** The vault, CA and terminator of a run with credentials (credential-services.ts, loaded only then). */
async function withCredentials(services: readonly Service[], credentials: RunCredentials | undefined): Promise<CredentialServices | undefined> {
  if (credentials === undefined || credentials.loaded.length === 0) return undefined;
  const { startCredentials } = await import('./credential-services.js');
  return startCredentials(services, credentials);
}

export async function startServices(services: readonly Service[], credentials?: RunCredentials): Promise<RunningServices> {
  const log = new NetworkEventLog();
  const creds = await withCredentials(services, credentials);
  const vault = creds?.vault;
  const stops: (() => Promise<void>)[] = [];
  const stop = async (): Promise<void> => {
    for (const s of stops.reverse()) await s();
    stops.length = 0;
  };
  try {
    for (const service of services) {
      const { FilterProxy } = await import('../network/proxy.js');
      const { ruleSet } = await import('../network/rules.js');
      const rules = ruleSet(service.allow, service.deny);
      const make = () => new FilterProxy({ rules, onEvent: (e) => log.add(e), ...(creds === undefined ? {} : { credentials: creds.vault, terminator: creds.terminator }) });
      const tcp = (service as Partial<LoopbackProxyService>).tcp;
      if (tcp !== undefined) {
        // The command reaches the proxy over the host loopback (sandbox-exec): no socket, no directory.
        const { listenLoopback } = await import('./loopback-proxy.js');
        stops.push(...(await listenLoopback(tcp, make)));
        continue;
      }
      checkSocketPath(service.socketPath);
      const proxy = make();
      // isolate's runtime directory, private (no sandbox or other user reaches the socket); then
      // the directories of runs that were killed before they could remove theirs.
      sweepProxyDirs(ensurePrivateDir(dirname(service.socketDir)));
      try {
        mkdirSync(service.socketDir, { mode: 0o700 });
      } catch (e: unknown) {
        throw new IsolateError('E_NETWORK_PROXY', `cannot create the proxy directory ${service.socketDir}: ${errnoCode(e) ?? String(e)}`, { cause: e });
      }
      stops.push(async () => rmSync(service.socketDir, { recursive: true, force: true }));
      if (creds !== undefined) (await import('./credential-services.js')).writeBundle(service.socketDir, creds.bundle);
      try {
        await proxy.listen({ path: service.socketPath });
      } catch (e: unknown) {
        throw new IsolateError('E_NETWORK_PROXY', `the network proxy could not listen on ${service.socketPath}: ${errnoCode(e) ?? String(e)}`, {
          cause: e,
          fix: `check that ${dirname(service.socketDir)} is writable`,
        });
      }
      stops.push(() => proxy.close());
    }
  } catch (e: unknown) {
    await stop();
    throw e;
  }
  return { log, vault, stop };
}

/** Start the services, run `run`, and always stop them; the proxy's events go in the result. */
export async function withServices(services: readonly Service[], run: () => Promise<ExecuteResult>, credentials?: RunCredentials): Promise<ExecuteResult> {
  if (services.length === 0 && (credentials?.loaded.length ?? 0) === 0) return run();
  const running = await startServices(services, credentials);
  try {
    const result = await run();
    const v = running.vault;
    return {
      ...result,
      networkEvents: running.log.events,
      ...(running.log.cut ? { networkEventsOmitted: running.log.omitted } : {}),
      ...(v === undefined ? {} : { credentialEvents: v.events, ...(v.omitted > 0 ? { credentialEventsOmitted: v.omitted } : {}) }),
    };
  } finally {
    await running.stop();
  }
}
