/** sandbox-exec (Seatbelt) backend: policy -> SBPL profile and argv. Pure; see types.ts. (Being written.) */
import { IsolateError } from '../errors.js';
import type { Backend } from './types.js';

export const sandboxExecBackend: Backend = {
  name: 'sandbox-exec',
  plan() {
    throw new IsolateError('E_BACKEND_UNSUPPORTED', 'the sandbox-exec backend is not available in this version', { fix: 'run isolate on Linux' });
  },
};
