import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { expectGolden } from './golden-file.js';

describe('golden files', () => {
  it('a missing golden file fails the test and is not written (without UPDATE_GOLDEN=1)', async () => {
    const name = 'bwrap/no-such-golden-file.txt';
    const file = fileURLToPath(new URL(name, import.meta.url));
    expect(existsSync(file)).toBe(false);
    await expect(expectGolden('anything\n', name, {})).rejects.toThrow(/test\/golden\/bwrap\/no-such-golden-file\.txt is missing.*npm run golden:update/);
    await expect(expectGolden('anything\n', name, { UPDATE_GOLDEN: '0', CI: '' })).rejects.toThrow(/is missing/);
    expect(existsSync(file)).toBe(false);
  });
});
