/** isolate's version, from its package.json. */
import { readFileSync } from 'node:fs';
import { packageRoot } from '../profile/builtin.js';

export function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('package.json', packageRoot()), 'utf8')) as { version: string };
  return pkg.version;
}
