/**
 * isolate's own code (profile/own-code.ts): the paths kept read-only where a
 * writable path holds them, found from the package isolate runs from.
 */
import { realpathSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ownCodePaths } from '../../src/profile/own-code.js';
import { REPO } from '../helpers/isolate.js';

describe('ownCodePaths', () => {
  it('names the package\'s code, the dependencies the bundle loads from node_modules, and the Node that runs it, by their real paths', () => {
    const root = realpathSync(REPO);
    const paths = ownCodePaths();
    expect(paths).toEqual(expect.arrayContaining(['bin', 'dist', 'package.json', 'node_modules'].map((p) => join(root, p))));
    expect(paths).toContain(realpathSync(process.execPath));
    for (const dep of ['yaml', 'zod']) expect(paths.some((p) => p.endsWith(`/node_modules/${dep}`)), dep).toBe(true);
    expect(paths.every((p) => p.startsWith('/'))).toBe(true);
  });
});
