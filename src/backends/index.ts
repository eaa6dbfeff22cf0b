/**
 * Backend selection. `auto`: sandbox-exec on macOS; on Linux bubblewrap, or
 * nsjail when bubblewrap is not installed and nsjail is. ISOLATE_BACKEND sets
 * the default choice.
 */
import { IsolateError } from '../errors.js';
import { bwrapBackend } from './bwrap.js';
import { nsjailBackend } from './nsjail.js';
import { sandboxExecBackend } from './sandbox-exec.js';
import type { Backend, HostFacts } from './types.js';

export type BackendChoice = 'auto' | 'bwrap' | 'nsjail' | 'sandbox-exec';
export const BACKEND_CHOICES: readonly BackendChoice[] = ['auto', 'bwrap', 'nsjail', 'sandbox-exec'];

export function backendByName(name: Exclude<BackendChoice, 'auto'>): Backend {
  switch (name) {
    case 'bwrap':
      return bwrapBackend;
    case 'nsjail':
      return nsjailBackend;
    case 'sandbox-exec':
      return sandboxExecBackend;
  }
}

export function selectBackend(choice: BackendChoice, host: Pick<HostFacts, 'platform' | 'bwrap' | 'nsjail'>): Backend {
  if (choice !== 'auto') return backendByName(choice);
  if (host.platform === 'darwin') return sandboxExecBackend;
  if (host.platform === 'linux') return host.bwrap === undefined && host.nsjail !== undefined ? nsjailBackend : bwrapBackend;
  throw new IsolateError('E_BACKEND_UNSUPPORTED', `no sandbox backend for ${host.platform}`, {
    fix: 'isolate runs on Linux (bubblewrap or nsjail) and macOS (sandbox-exec)',
  });
}
