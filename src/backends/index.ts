/** Backend selection. `auto` picks the first backend this platform supports. */
import { IsolateError } from '../errors.js';
import { bwrapBackend } from './bwrap.js';
import type { Backend } from './types.js';

export type BackendChoice = 'auto' | 'bwrap';
export const BACKEND_CHOICES: readonly BackendChoice[] = ['auto', 'bwrap'];

export function selectBackend(choice: BackendChoice, platform: NodeJS.Platform): Backend {
  if (choice === 'bwrap') return bwrapBackend;
  if (platform === 'linux') return bwrapBackend;
  throw new IsolateError('E_BACKEND_UNSUPPORTED', `no sandbox backend for ${platform} yet`, {
    fix: 'isolate currently runs on Linux with bubblewrap; sandbox-exec for macOS is planned',
  });
}
