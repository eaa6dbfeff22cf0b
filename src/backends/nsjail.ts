/** nsjail backend: policy -> nsjail argv and config. Pure; see types.ts. (Being written.) */
import { IsolateError } from '../errors.js';
import type { Backend } from './types.js';

export const nsjailBackend: Backend = {
  name: 'nsjail',
  plan() {
    throw new IsolateError('E_BACKEND_UNSUPPORTED', 'the nsjail backend is not available in this version', { fix: 'use --backend bwrap' });
  },
};
