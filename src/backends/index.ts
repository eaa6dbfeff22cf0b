/**
 * Backend selection. `auto`: sandbox-exec on macOS; on Linux bubblewrap, or
 * nsjail when bubblewrap is not installed and nsjail is; never oci (it is
 * asked for by name). ISOLATE_BACKEND sets the default choice.
 */
import { IsolateError } from '../errors.js';
import type { Backend, BackendChoice, BackendName, HostFacts } from './types.js';

export { BACKEND_CHOICES, type BackendChoice } from './types.js';

/** Loaded on demand: a run loads only the backend it uses. */
export async function loadBackend(name: BackendName): Promise<Backend> {
  switch (name) {
    case 'bwrap':
      return (await import('./bwrap.js')).bwrapBackend;
    case 'nsjail':
      return (await import('./nsjail.js')).nsjailBackend;
    case 'sandbox-exec':
      return (await import('./sandbox-exec.js')).sandboxExecBackend;
    case 'oci':
      return (await import('./oci.js')).ociBackend;
  }
}

/** Which backend a choice means on this host. */
export function selectBackend(choice: BackendChoice, host: Pick<HostFacts, 'platform' | 'bwrap' | 'nsjail'>): BackendName {
  if (choice !== 'auto') return choice;
  if (host.platform === 'darwin') return 'sandbox-exec';
  if (host.platform === 'linux') return host.bwrap === undefined && host.nsjail !== undefined ? 'nsjail' : 'bwrap';
  throw new IsolateError('E_BACKEND_UNSUPPORTED', `no sandbox backend for ${host.platform}`, {
    fix: 'isolate runs on Linux (bubblewrap or nsjail) and macOS (sandbox-exec)',
  });
}
